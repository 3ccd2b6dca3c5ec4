import { randomUUID } from 'node:crypto';
import {
  Kafka,
  logLevel,
  Partitioners,
  type Consumer,
  type EachBatchPayload,
  type KafkaMessage,
  type Producer,
  type LogEntry,
  type ISocketFactory,
  CompressionTypes,
} from 'kafkajs';
import type {
  BatchHandler,
  BatchOptions,
  MessageBroker,
  MessagePublisher,
  MessageSubscriber,
  OutgoingRecord,
  ReceivedRecord,
  RecordHandler,
  SubscriptionOptions,
} from '../port';

export interface KafkaSettings {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly log?: (level: 'error' | 'warn' | 'info' | 'debug', message: string, extra: Record<string, unknown>) => void;
  /** How connections to brokers are opened (kafkajs' own by default); tests cut the broker off with one. */
  readonly socketFactory?: ISocketFactory;
}

/** The longest wait between two tries of a Kafka request (kafkajs' default, 30 s, delays recovery as much). */
export const KAFKA_MAX_RETRY_WAIT_MS = 2_000;
/** Retries without end, at most KAFKA_MAX_RETRY_WAIT_MS apart: for clients that must outlast a broker outage. */
const KAFKA_RECONNECT_RETRY = { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: KAFKA_MAX_RETRY_WAIT_MS };

const levelName = (l: logLevel): 'error' | 'warn' | 'info' | 'debug' =>
  l === logLevel.ERROR || l === logLevel.NOTHING ? 'error' : l === logLevel.WARN ? 'warn' : l === logLevel.INFO ? 'info' : 'debug';

class KafkaPublisher implements MessagePublisher {
  constructor(private readonly producer: Producer) {}

  async publish(records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    const byTopic = new Map<string, OutgoingRecord[]>();
    for (const r of records) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
    await this.producer.sendBatch({
      acks: -1,
      compression: CompressionTypes.None,
      topicMessages: [...byTopic.entries()].map(([topic, rs]) => ({
        topic,
        messages: rs.map((r) => ({ key: r.message.key, value: r.message.value, headers: r.message.headers })),
      })),
    });
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}

const toRecord = (topic: string, partition: number, m: KafkaMessage): ReceivedRecord => ({
  topic,
  partition,
  offset: m.offset,
  key: m.key,
  value: m.value,
  headers: m.headers ?? {},
});

/** Records per worker in one committed group when records of a partition are handled concurrently. */
const RECORDS_PER_WORKER = 8;

/**
 * Handles a partition's records with at most `concurrency` at once: records sharing a key (one referral) one after
 * the other in offset order, different keys side by side. Settles every record before reporting the first failure,
 * so nothing is still running when the caller gives the group back to Kafka.
 */
export async function handleByKey<M extends { readonly key: Buffer | null }>(
  records: readonly M[],
  concurrency: number,
  handle: (m: M) => Promise<void>,
): Promise<void> {
  const byKey = new Map<string, M[]>();
  for (const m of records) {
    const key = m.key === null ? '' : m.key.toString('latin1');
    const same = byKey.get(key);
    if (same) same.push(m);
    else byKey.set(key, [m]);
  }
  const queues = [...byKey.values()];
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    for (let queue = queues[next++]; queue && !failure; queue = queues[next++]) {
      for (const m of queue) {
        if (failure) return;
        try {
          await handle(m);
        } catch (error) {
          failure ??= { error };
          return;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, queues.length) }, worker));
  if (failure) throw failure.error;
}

class KafkaSubscriber implements MessageSubscriber {
  private consumer: Consumer | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: SubscriptionOptions,
  ) {}

  async run(handler: RecordHandler): Promise<void> {
    const concurrency = Math.max(1, this.options.recordsConcurrently ?? 1);
    // Records in flight past the first unfinished one stay uncommitted: a group bounds what a crash hands back.
    const groupSize = concurrency === 1 ? 1 : concurrency * RECORDS_PER_WORKER;
    await this.start(async ({ batch, resolveOffset, heartbeat, isRunning, isStale }, consumer) => {
      for (let i = 0; i < batch.messages.length; i += groupSize) {
        if (!isRunning() || isStale()) break;
        const group = batch.messages.slice(i, i + groupSize);
        await handleByKey(group, concurrency, async (m) => {
          await handler(toRecord(batch.topic, batch.partition, m));
          // The group may take longer than the session: each finished record keeps the member alive (kafkajs sends at
          // most one heartbeat per interval, so this is cheap).
          if (concurrency > 1) await heartbeat();
        });
        const last = group[group.length - 1]!.offset;
        resolveOffset(last);
        // The committed offset is the next one to read: offset + 1, after every handler's database commit.
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
        await heartbeat();
      }
    });
  }

  async runBatches(handler: BatchHandler, options: BatchOptions): Promise<void> {
    const size = Math.max(1, options.maxBatchSize);
    await this.start(async ({ batch, resolveOffset, heartbeat, isRunning, isStale }, consumer) => {
      for (let i = 0; i < batch.messages.length; i += size) {
        if (!isRunning() || isStale()) break;
        const chunk = batch.messages.slice(i, i + size);
        await handler({
          topic: batch.topic,
          partition: batch.partition,
          records: chunk.map((m) => toRecord(batch.topic, batch.partition, m)),
        });
        const last = chunk[chunk.length - 1]!.offset;
        resolveOffset(last);
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
        await heartbeat();
      }
    });
  }

  private async start(eachBatch: (payload: EachBatchPayload, consumer: Consumer) => Promise<void>): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      allowAutoTopicCreation: false,
      // A member that died (a SIGKILLed service) holds its partitions until its session expires: 10 s, not 30 s, so its
      // restarted successor takes them over within seconds. (6 s is the broker's minimum.)
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      // While the broker is away, keep the member and retry at least every 2 s instead of crashing after a few
      // doublings (a crashed consumer rejoins as a new member and waits out the old one's session): consuming resumes
      // within seconds of the broker's return.
      retry: KAFKA_RECONNECT_RETRY,
    });
    this.consumer = consumer;
    await consumer.connect();
    for (const topic of this.options.topics) {
      await consumer.subscribe({ topic, fromBeginning: this.options.fromBeginning ?? true });
    }
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConcurrently ?? 3,
      eachBatch: (payload) => eachBatch(payload, consumer),
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

export class KafkaBroker implements MessageBroker {
  private readonly kafka: Kafka;
  private producerPromise: Promise<MessagePublisher> | undefined;
  private readonly subscribers: KafkaSubscriber[] = [];

  constructor(settings: KafkaSettings) {
    this.kafka = new Kafka({
      clientId: settings.clientId,
      brokers: [...settings.brokers],
      connectionTimeout: 3_000,
      requestTimeout: 30_000,
      retry: { initialRetryTime: 200, maxRetryTime: KAFKA_MAX_RETRY_WAIT_MS, retries: 8 },
      logLevel: logLevel.WARN,
      ...(settings.socketFactory ? { socketFactory: settings.socketFactory } : {}),
      logCreator:
        () =>
        ({ level, log }: LogEntry) => {
          const { message, ...extra } = log;
          settings.log?.(levelName(level), `kafkajs: ${message}`, extra);
        },
    });
  }

  publisher(): Promise<MessagePublisher> {
    this.producerPromise ??= (async () => {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        // Murmur2 on the key, like the Java client: the same referral lands on the same partition from any producer.
        createPartitioner: Partitioners.DefaultPartitioner,
        // Idempotence needs unbounded retries by count; each wait is at most 2 s, so a publish goes through within
        // seconds of the broker's return.
        retry: KAFKA_RECONNECT_RETRY,
      });
      await producer.connect();
      return new KafkaPublisher(producer);
    })();
    return this.producerPromise;
  }

  subscriber(options: SubscriptionOptions): MessageSubscriber {
    const s = new KafkaSubscriber(this.kafka, options);
    this.subscribers.push(s);
    return s;
  }

  /**
   * Every record of a topic now retained, read with a throwaway consumer group up to the high watermarks seen at
   * the start (the group is deleted afterwards). For small topics operators inspect, such as dead-letter topics.
   */
  async readTopic(topic: string, timeoutMs = 30_000): Promise<ReceivedRecord[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    const groupId = `sonet-topic-read-${randomUUID()}`;
    try {
      const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
      const pending = new Set([...ends].filter(([, high]) => high > 0n).map(([partition]) => partition));
      const records: ReceivedRecord[] = [];
      if (pending.size === 0) return records;
      const consumer = this.kafka.consumer({ groupId, allowAutoTopicCreation: false });
      await consumer.connect();
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`reading ${topic} took over ${timeoutMs} ms`)), timeoutMs);
          void consumer.run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const high = ends.get(partition) ?? 0n;
              if (BigInt(message.offset) < high) records.push(toRecord(topic, partition, message));
              if (BigInt(message.offset) + 1n >= high) pending.delete(partition);
              if (pending.size > 0) return;
              clearTimeout(timer);
              resolve();
            },
          });
        });
      } finally {
        await consumer.disconnect();
      }
      return records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
    } finally {
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect();
    }
  }

  async consumerLag(groupId: string, topics: readonly string[]): Promise<{ topic: string; partition: number; lag: number }[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
      const lags: { topic: string; partition: number; lag: number }[] = [];
      for (const { topic, partitions } of committed) {
        const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
        for (const p of partitions) {
          const end = ends.get(p.partition) ?? 0n;
          // -1: nothing committed yet; the group starts from the beginning (low watermark ignored: retention rarely bites).
          const at = p.offset === '-1' ? 0n : BigInt(p.offset);
          lags.push({ topic, partition: p.partition, lag: Number(end > at ? end - at : 0n) });
        }
      }
      return lags;
    } finally {
      await admin.disconnect();
    }
  }

  async ping(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await admin.describeCluster();
    } finally {
      await admin.disconnect();
    }
  }

  /** Creates the topics that do not exist yet; existing ones are left as they are. Returns the names created. */
  async ensureTopics(topics: readonly { name: string; partitions: number; retentionMs: number }[]): Promise<string[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t.name));
      if (missing.length === 0) return [];
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.name,
          numPartitions: t.partitions,
          replicationFactor: -1,
          configEntries: [
            { name: 'retention.ms', value: String(t.retentionMs) },
            { name: 'cleanup.policy', value: 'delete' },
          ],
        })),
      });
      return missing.map((t) => t.name);
    } finally {
      await admin.disconnect();
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.subscribers.map((s) => s.stop()));
    if (this.producerPromise) await (await this.producerPromise).disconnect();
  }
}
