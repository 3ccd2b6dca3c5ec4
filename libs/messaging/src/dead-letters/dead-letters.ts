import { headerTextMap } from '@sonet/contracts';
import type { MessageBroker, OutgoingRecord, ReceivedRecord } from '../port';
import { countReplay } from '../metrics';

/** Where a dead letter lies: its `.dlq` topic, partition and offset, as one path-safe id (`<topic>:<partition>:<offset>`). */
export const deadLetterId = (r: Pick<ReceivedRecord, 'topic' | 'partition' | 'offset'>): string => `${r.topic}:${r.partition}:${r.offset}`;

export function parseDeadLetterId(id: string): { topic: string; partition: number; offset: string } | undefined {
  const m = /^(?<topic>[a-z0-9._-]+\.dlq):(?<partition>\d{1,5}):(?<offset>\d{1,19})$/.exec(id)?.groups;
  return m?.topic && m.offset ? { topic: m.topic, partition: Number(m.partition), offset: m.offset } : undefined;
}

/** One dead-lettered message as operators see it: ids, sizes and why it failed; never its body. */
export interface DeadLetterView {
  /** The newest dead letter of this event for this consumer group: what a replay sends again. */
  readonly id: string;
  readonly topic: string;
  readonly originalTopic: string;
  readonly consumerGroup: string;
  readonly eventId: string | null;
  readonly eventType: string | null;
  /** The Kafka key: the referral id. */
  readonly key: string | null;
  readonly reason: string;
  readonly error: string;
  /** Handler attempts over every time this event was dead-lettered by this group. */
  readonly attempts: number;
  readonly deadLettered: number;
  readonly firstFailureAt: string | null;
  readonly lastFailureAt: string | null;
  readonly sizeBytes: number;
  /** The headers the message was sent with (CloudEvents ids, traceparent): ids only, no patient data. */
  readonly originalHeaders: Readonly<Record<string, string>>;
}

const ORIGINAL_HEADER = /^(ce_[a-z]+|traceparent|tracestate|content-type)$/;
/** `ce_*` headers that may carry free text: left out (the body is never shown either). */
const HIDDEN_HEADERS = new Set(['ce_dataschema']);

function view(records: readonly [ReceivedRecord, ...ReceivedRecord[]]): DeadLetterView {
  const newest = records[records.length - 1] ?? records[0];
  const h = headerTextMap(newest.headers);
  const failures = records
    .map((r) => headerTextMap(r.headers)['dlq-failed-at'] ?? '')
    .filter(Boolean)
    .sort();
  return {
    id: deadLetterId(newest),
    topic: newest.topic,
    originalTopic: h['dlq-original-topic'] ?? newest.topic.replace(/\.dlq$/, ''),
    consumerGroup: h['dlq-consumer-group'] ?? '',
    eventId: h.ce_id ?? null,
    eventType: h.ce_type ?? null,
    key: newest.key === null ? null : newest.key.toString(),
    reason: h['dlq-reason'] ?? '',
    error: h['dlq-error'] ?? '',
    attempts: records.reduce((n, r) => n + Number(headerTextMap(r.headers)['dlq-attempts'] ?? 0), 0),
    deadLettered: records.length,
    firstFailureAt: failures[0] ?? null,
    lastFailureAt: failures[failures.length - 1] ?? null,
    sizeBytes: newest.value === null ? 0 : Buffer.byteLength(newest.value),
    originalHeaders: Object.fromEntries(Object.entries(h).filter(([k]) => ORIGINAL_HEADER.test(k) && !HIDDEN_HEADERS.has(k))),
  };
}

/** Dead letters grouped by (consumer group, event id), in the order they were first dead-lettered. */
export function deadLetterViews(records: readonly ReceivedRecord[]): DeadLetterView[] {
  const groups = new Map<string, [ReceivedRecord, ...ReceivedRecord[]]>();
  for (const r of records) {
    const h = headerTextMap(r.headers);
    const key = `${h['dlq-consumer-group'] ?? ''}|${h.ce_id ?? deadLetterId(r)}`;
    groups.set(key, [...(groups.get(key) ?? []), r] as [ReceivedRecord, ...ReceivedRecord[]]);
  }
  return [...groups.values()].map(view);
}

/** The message as it was first sent, to its original topic: same key, body and headers, without the `dlq-*` ones. */
export function replayOf(record: ReceivedRecord): OutgoingRecord {
  const headers = headerTextMap(record.headers);
  return {
    topic: headers['dlq-original-topic'] ?? record.topic.replace(/\.dlq$/, ''),
    message: {
      key: record.key === null ? '' : record.key.toString(),
      value: record.value === null ? Buffer.alloc(0) : Buffer.from(record.value),
      headers: Object.fromEntries(Object.entries(headers).filter(([k]) => !k.startsWith('dlq-'))),
    },
  };
}

/**
 * Reading and replaying dead letters. A replay sends the message again to its original topic, where every consumer
 * group reads it: the inbox of each dedupes on the event id, so the groups that processed it do nothing and the
 * group that dead-lettered it processes it once; a second replay finds every inbox row and changes nothing.
 */
export class DeadLetters {
  constructor(private readonly broker: MessageBroker) {}

  async list(dlqTopic: string): Promise<DeadLetterView[]> {
    return deadLetterViews(await this.broker.readTopic(dlqTopic));
  }

  /** Replays one dead letter; undefined when no record lies at that id. */
  async replay(id: string): Promise<DeadLetterView | undefined> {
    const at = parseDeadLetterId(id);
    if (!at) return undefined;
    const record = (await this.broker.readTopic(at.topic)).find((r) => r.partition === at.partition && r.offset === at.offset);
    if (!record) return undefined;
    await (await this.broker.publisher()).publish([replayOf(record)]);
    countReplay(at.topic);
    return view([record]);
  }

  /** Replays the newest dead letter of every event on `dlqTopic` that failed for `reason` (dlq-reason). */
  async replayAll(dlqTopic: string, reason: string): Promise<DeadLetterView[]> {
    const records = await this.broker.readTopic(dlqTopic);
    const chosen = deadLetterViews(records).filter((v) => v.reason === reason);
    const ids = new Set(chosen.map((v) => v.id));
    const replays = records.filter((r) => ids.has(deadLetterId(r))).map(replayOf);
    if (replays.length > 0) await (await this.broker.publisher()).publish(replays);
    for (let i = 0; i < replays.length; i++) countReplay(dlqTopic);
    return chosen;
  }
}
