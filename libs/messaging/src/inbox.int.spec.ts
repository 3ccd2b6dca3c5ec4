import { randomUUID } from 'node:crypto';
import { MikroORM, PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Kafka, logLevel } from 'kafkajs';
import { z } from 'zod';
import {
  createEnvelope,
  defineEvent,
  dlqTopicOf,
  EventRegistry,
  headerText,
  nhsNumberSchema,
  toWireMessage,
  type TopicName,
  type WireMessage,
} from '@sonet/contracts';
import { InboxProcessor, PermanentError, type InboxHandler, type Outcome } from './inbox/inbox-processor';
import { KafkaBroker } from './kafka/kafka-broker';
import type { MessagePublisher, MessageSubscriber, ReceivedRecord } from './port';
import { MESSAGING_SCHEMA_V1 } from './schema';
import { readTopicsIntoMemory } from './topic-reader';
import { eventually, freshDatabase, integrationSettings, uniqueSuffix } from '@sonet/testing';

/*
 * The idempotent inbox on a real PostgreSQL and Kafka, wired as KafkaInboxServer wires it: a subscriber
 * whose handler is `processor.handle(record)`, committing each offset after it resolves.
 */
jest.setTimeout(60_000);

const settings = integrationSettings();

const collectRecords = (topics: readonly string[]) => readTopicsIntoMemory(settings.kafkaBrokers, topics);

const sfx = uniqueSuffix();
const TOPIC = `test.inbox-${sfx}.v1`;
const DLQ = dlqTopicOf(TOPIC);
const GROUP = `test-inbox-${sfx}`;

const Probe = defineEvent({
  type: 'test.inbox-probe.v1',
  topic: TOPIC as TopicName,
  description: 'Inbox integration test event.',
  schema: z.object({
    nhsNumber: nhsNumberSchema,
    behaviour: z.enum(['ok', 'reject-after-write', 'fail-once-after-write']).default('ok'),
  }),
});
const registry = new EventRegistry([Probe]);

const kafka = new Kafka({ clientId: `test-inbox-admin-${sfx}`, brokers: settings.kafkaBrokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();

const highWatermark = async (): Promise<string> => {
  const [p] = await admin.fetchTopicOffsets(TOPIC);
  return p!.high;
};
const committedOffset = async (): Promise<string> => {
  const [t] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
  return t!.partitions[0]!.offset;
};

describe('inbox consumer on Kafka and PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let orm: MikroORM;
  let broker: KafkaBroker;
  let producer: MessagePublisher;
  let subscriber: MessageSubscriber;
  let dlq: Awaited<ReturnType<typeof collectRecords>>;
  /** What handle() returned, by offset. */
  const outcomes = new Map<string, Outcome>();
  const failedOnce = new Set<string>();

  /** Writes the business effect through the inbox transaction, then behaves as the event asks. */
  const handler: InboxHandler = async (envelope, ctx) => {
    const data = envelope.data as z.output<typeof Probe.schema>;
    await ctx.em.execute('insert into effects (event_id, nhs_number, "offset") values (?, ?, ?)', [
      envelope.id,
      data.nhsNumber,
      ctx.offset,
    ]);
    if (data.behaviour === 'reject-after-write') throw new PermanentError('the referral is closed');
    if (data.behaviour === 'fail-once-after-write' && !failedOnce.has(envelope.id)) {
      failedOnce.add(envelope.id);
      throw new Error('lost the database connection');
    }
  };

  /** Runs a subscriber exactly as KafkaInboxServer does, recording each outcome. */
  const startConsumer = async (): Promise<MessageSubscriber> => {
    const processor = new InboxProcessor(orm, () => broker.publisher(), {
      consumer: GROUP,
      registry,
      resolve: (type) => (type === Probe.type ? handler : undefined),
      maxAttempts: 3,
      backoffMs: 10,
    });
    const s = broker.subscriber({ groupId: GROUP, topics: [TOPIC], fromBeginning: true });
    await s.run(async (record: ReceivedRecord) => {
      outcomes.set(record.offset, await processor.handle(record));
    });
    return s;
  };

  /** Publishes messages in order and waits until the group has committed past the last; returns their offsets. */
  const deliver = async (...messages: WireMessage[]): Promise<string[]> => {
    const before = Number(await highWatermark());
    await producer.publish(messages.map((message) => ({ topic: TOPIC, message })));
    const after = await highWatermark();
    expect(Number(after)).toBe(before + messages.length);
    await eventually(async () => ((await committedOffset()) === after ? true : undefined), 30_000);
    return messages.map((_, i) => String(before + i));
  };

  const wire = (data: Record<string, unknown>, id = randomUUID()) =>
    toWireMessage(createEnvelope({ id, type: Probe.type, source: 'urn:sonet:test', subject: randomUUID(), data }));

  const count = async (sql: string, params: unknown[]) => Number((await orm.em.fork().execute<{ n: string }[]>(sql, params))[0]!.n);
  const effectsOf = (id: string) => count('select count(*) as n from effects where event_id = ?', [id]);
  const inboxRowsOf = (id: string) => count('select count(*) as n from inbox where consumer = ? and event_id = ?', [GROUP, id]);

  const deadLetterFrom = (offset: string) =>
    eventually(async () => dlq.records.find((r) => headerText(r.headers['dlq-original-offset']) === offset), 30_000);

  beforeAll(async () => {
    await admin.connect();
    db = await freshDatabase('inbox');
    orm = await MikroORM.init({
      driver: PostgreSqlDriver,
      dbName: db.dbName,
      host: settings.pg.host,
      port: settings.pg.port,
      user: settings.pg.user,
      password: settings.pg.password,
      entities: [],
      discovery: { warnWhenNoEntities: false },
      pool: { min: 0, max: 5 },
    });
    await orm.em.fork().execute(MESSAGING_SCHEMA_V1);
    // No unique constraint on purpose: a second run of the handler would show as a second row.
    await orm.em.fork().execute('create table effects (event_id uuid not null, nhs_number text not null, "offset" bigint not null)');
    broker = new KafkaBroker({ brokers: settings.kafkaBrokers, clientId: `test-inbox-${sfx}` });
    await broker.ensureTopics([
      { name: TOPIC, partitions: 1, retentionMs: 3_600_000 },
      { name: DLQ, partitions: 1, retentionMs: 3_600_000 },
    ]);
    producer = await broker.publisher();
    dlq = await collectRecords([DLQ]);
    subscriber = await startConsumer();
  });

  afterAll(async () => {
    await subscriber?.stop().catch(() => undefined);
    await dlq?.stop().catch(() => undefined);
    await broker?.close().catch(() => undefined);
    await orm?.close(true).catch(() => undefined);
    await db?.drop().catch(() => undefined);
    await admin.deleteTopics({ topics: [TOPIC, DLQ] }).catch(() => undefined);
    await admin.disconnect();
  });

  describe('when the same event is delivered twice', () => {
    it('runs the handler once and keeps one inbox row', async () => {
      const message = wire({ nhsNumber: '943 476 5919' });
      const id = message.headers.ce_id!;

      const [first, second] = await deliver(message, message);

      expect(outcomes.get(first!)).toBe('processed');
      expect(outcomes.get(second!)).toBe('duplicate');
      expect(await effectsOf(id)).toBe(1);
      expect(await inboxRowsOf(id)).toBe(1);
      const [row] = await orm.em.fork().execute<{ nhs_number: string }[]>('select nhs_number from effects where event_id = ?', [id]);
      expect(row!.nhs_number).toBe('9434765919'); // the handler saw the validated, normalised data
    });
  });

  describe('when bad messages arrive before a good one', () => {
    it('dead-letters each bad one with its reason and goes on to process the good one', async () => {
      const missingId = wire({ nhsNumber: '9434765919' });
      delete (missingId.headers as Record<string, string>).ce_id;
      const badNhs = wire({ nhsNumber: '943 476 5918' });
      const good = wire({ nhsNumber: '9876543210' });

      const [o1, o2, o3] = await deliver(missingId, badNhs, good);

      expect([outcomes.get(o1!), outcomes.get(o2!), outcomes.get(o3!)]).toEqual(['dead-lettered', 'dead-lettered', 'processed']);
      expect(await effectsOf(good.headers.ce_id!)).toBe(1);
      expect(await effectsOf(badNhs.headers.ce_id!)).toBe(0);
      expect(await inboxRowsOf(badNhs.headers.ce_id!)).toBe(0);

      const deadEnvelope = await deadLetterFrom(o1!);
      expect(headerText(deadEnvelope.headers['dlq-reason'])).toBe('invalid-envelope');
      expect(headerText(deadEnvelope.headers['dlq-error'])).toMatch(/→ at id/);
      expect(headerText(deadEnvelope.headers['dlq-original-topic'])).toBe(TOPIC);
      expect(headerText(deadEnvelope.headers['dlq-original-partition'])).toBe('0');
      expect(headerText(deadEnvelope.headers['dlq-consumer-group'])).toBe(GROUP);
      expect(headerText(deadEnvelope.headers.ce_type)).toBe(Probe.type); // original headers travel along
      expect(deadEnvelope.key?.toString()).toBe(missingId.key);

      const deadData = await deadLetterFrom(o2!);
      expect(headerText(deadData.headers['dlq-reason'])).toBe('invalid-data');
      expect(headerText(deadData.headers['dlq-error'])).toMatch(/not a valid NHS number/);
      expect(headerText(deadData.headers.ce_id)).toBe(badNhs.headers.ce_id);
      expect(deadData.value?.toString()).toBe(badNhs.value.toString()); // the body is kept verbatim for an operator

      expect(dlq.records.filter((r) => headerText(r.headers['dlq-original-offset']) === o3)).toEqual([]);
    });
  });

  describe('when the handler rejects the event after writing', () => {
    it('rolls its write back, dead-letters the event as rejected and goes on', async () => {
      const rejected = wire({ nhsNumber: '9434765919', behaviour: 'reject-after-write' });
      const next = wire({ nhsNumber: '9434765919' });

      const [o1, o2] = await deliver(rejected, next);

      expect([outcomes.get(o1!), outcomes.get(o2!)]).toEqual(['dead-lettered', 'processed']);
      expect(await effectsOf(rejected.headers.ce_id!)).toBe(0);
      expect(await inboxRowsOf(rejected.headers.ce_id!)).toBe(0);
      const dead = await deadLetterFrom(o1!);
      expect(headerText(dead.headers['dlq-reason'])).toBe('rejected');
      expect(headerText(dead.headers['dlq-error'])).toBe('the referral is closed');
      expect(headerText(dead.headers['dlq-attempts'])).toBe('1');
    });
  });

  describe('when the handler fails once after writing', () => {
    it('retries, and only the successful attempt’s write and inbox row remain', async () => {
      const flaky = wire({ nhsNumber: '9434765919', behaviour: 'fail-once-after-write' });

      const [o1] = await deliver(flaky);

      expect(outcomes.get(o1!)).toBe('processed');
      expect(failedOnce.has(flaky.headers.ce_id!)).toBe(true);
      expect(await effectsOf(flaky.headers.ce_id!)).toBe(1);
      expect(await inboxRowsOf(flaky.headers.ce_id!)).toBe(1);
    });
  });

  describe('when forged messages arrive (raw bytes, as an attacker with produce rights would send them)', () => {
    const rawProducer = kafka.producer();
    afterAll(() => rawProducer.disconnect());

    /** Sends exactly these bytes, waits until the group has committed past them; returns their offsets. */
    const deliverRaw = async (...messages: { key: Buffer | null; value: Buffer; headers: Record<string, Buffer> }[]): Promise<string[]> => {
      await rawProducer.connect();
      const before = Number(await highWatermark());
      await rawProducer.send({ topic: TOPIC, acks: -1, messages });
      const after = String(before + messages.length);
      await eventually(async () => ((await committedOffset()) === after ? true : undefined), 30_000);
      return messages.map((_, i) => String(before + i));
    };
    const forge = (
      data: Record<string, unknown>,
      change: (m: { key: Buffer | null; value: Buffer; headers: Record<string, Buffer> }, subject: string) => void,
    ) => {
      const w = wire(data);
      const m = {
        key: Buffer.from(w.key) as Buffer | null,
        value: w.value,
        headers: Object.fromEntries(Object.entries(w.headers).map(([k, v]) => [k, Buffer.from(v)])),
      };
      change(m, w.key);
      return { id: w.headers.ce_id!, message: m };
    };

    it('dead-letters each with its reason and clean dlq-* headers, acts on none, and goes on', async () => {
      const forged = [
        forge({ nhsNumber: '9434765919', referralId: randomUUID() }, () => {}), // body names another referral than subject and key
        forge({ nhsNumber: '9434765919' }, (m) => (m.key = Buffer.from(randomUUID()))), // key names another referral
        forge(
          { nhsNumber: '9434765919' },
          (m) => (m.value = Buffer.concat([Buffer.from('{"nhsNumber":"94347659'), Buffer.from([0xc3, 0x28]), Buffer.from('19"}')])),
        ),
        forge({ nhsNumber: '9434765919' }, (m) => (m.headers['x-origin'] = Buffer.from([0xff, 0xfe]))),
        forge({ nhsNumber: '9434765919' }, (m) => (m.headers.ce_source = Buffer.from('urn:sonet:test\r\nBcc: attacker@example.org'))),
      ];
      const good = forge(
        { nhsNumber: '9434765919' },
        (m, subject) => (m.value = Buffer.from(JSON.stringify({ nhsNumber: '9434765919', referralId: subject }))),
      );

      const offsets = await deliverRaw(...forged.map((f) => f.message), good.message);

      expect(offsets.map((o) => outcomes.get(o))).toEqual([
        'dead-lettered',
        'dead-lettered',
        'dead-lettered',
        'dead-lettered',
        'dead-lettered',
        'processed',
      ]);
      for (const f of forged) expect(await effectsOf(f.id)).toBe(0);
      expect(await effectsOf(good.id)).toBe(1);
      const reasons: string[] = [];
      for (const o of offsets.slice(0, forged.length)) {
        const dead = await deadLetterFrom(o);
        reasons.push(headerText(dead.headers['dlq-reason'])!);
        for (const [name, value] of Object.entries(dead.headers).filter(([n]) => n.startsWith('dlq-'))) {
          const text = headerText(value)!;
          expect({ name, oneLine: !/[\r\n]/.test(text), bounded: Buffer.byteLength(text) <= 500 }).toEqual({
            name,
            oneLine: true,
            bounded: true,
          });
        }
      }
      expect(reasons).toEqual(['referral-mismatch', 'referral-mismatch', 'invalid-encoding', 'invalid-encoding', 'invalid-envelope']);
    });
  });

  describe('when the consumer restarts', () => {
    it('resumes after the committed offset (last offset + 1) and processes nothing twice', async () => {
      const committed = await committedOffset();
      expect(committed).toBe(await highWatermark());
      expect(committed).toBe(String(Math.max(...[...outcomes.keys()].map(Number)) + 1));

      await subscriber.stop();
      const seenBefore = new Set(outcomes.keys());
      subscriber = await startConsumer();

      const after = wire({ nhsNumber: '9434765919' });
      const [o1] = await deliver(after);

      expect(outcomes.get(o1!)).toBe('processed');
      expect([...outcomes.keys()].filter((o) => !seenBefore.has(o))).toEqual([o1]); // nothing re-read
      expect(await committedOffset()).toBe(String(Number(o1) + 1));
    });
  });
});
