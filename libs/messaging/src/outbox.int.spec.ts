import { randomUUID } from 'node:crypto';
import { MikroORM, PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Kafka, logLevel } from 'kafkajs';
import { z } from 'zod';
import { createEnvelope, defineEvent, fromWireMessage, type TopicName } from '@sonet/contracts';
import { KafkaBroker } from './kafka/kafka-broker';
import { appendToOutbox, emitEvent } from './outbox/outbox';
import { OutboxRelay } from './outbox/relay';
import type { MessagePublisher } from './port';
import { MESSAGING_SCHEMA_V1 } from './schema';
import { readTopicsIntoMemory } from './topic-reader';
import { eventually, freshDatabase, integrationSettings, uniqueSuffix } from '@sonet/testing';

/*
 * The transactional outbox on a real PostgreSQL and Kafka: events appended in business transactions reach
 * their topic exactly once (no crash in between), in insertion order per key, across a stop part-way and a
 * restart with two relay replicas.
 */
jest.setTimeout(60_000);

const settings = integrationSettings();

const collectRecords = (topics: readonly string[]) => readTopicsIntoMemory(settings.kafkaBrokers, topics);

const sfx = uniqueSuffix();
const TOPIC = `test.outbox-${sfx}.v1`;
const PARTITIONS = 3;

const Probe = defineEvent({
  type: 'test.outbox-probe.v1',
  topic: TOPIC as TopicName,
  description: 'Outbox integration test event.',
  schema: z.object({ n: z.number().int() }),
});

async function openDatabase(prefix: string) {
  const db = await freshDatabase(prefix);
  const orm = await MikroORM.init({
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
  return {
    orm,
    close: async () => {
      await orm.close(true);
      await db.drop();
    },
  };
}

const kafka = new Kafka({ clientId: `test-outbox-admin-${sfx}`, brokers: settings.kafkaBrokers, logLevel: logLevel.NOTHING });

/** How many messages the topic holds (high watermark minus low, over all partitions). */
async function messagesIn(topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

describe('transactional outbox with the relay', () => {
  const cleanups: (() => Promise<void>)[] = [];
  /** Relays a test started; stopped in afterAll too, in case a failed test left one running. */
  const started: OutboxRelay[] = [];
  let orm: MikroORM;
  let broker: KafkaBroker;

  beforeAll(async () => {
    const db = await openDatabase('outbox_relay');
    orm = db.orm;
    cleanups.push(db.close);
    broker = new KafkaBroker({ brokers: settings.kafkaBrokers, clientId: `test-outbox-${sfx}` });
    cleanups.push(() => broker.close());
    await broker.ensureTopics([{ name: TOPIC, partitions: PARTITIONS, retentionMs: 3_600_000 }]);
  });

  afterAll(async () => {
    await Promise.all(started.map((r) => r.stop()));
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [TOPIC] }).catch(() => undefined);
    await admin.disconnect();
  });

  const subjects = Array.from({ length: 7 }, () => randomUUID());
  /** Every event id appended, in insertion order, with its subject and sequence number. */
  const appended: { id: string; subject: string; n: number }[] = [];

  /** Appends `count` events in business transactions of 50, round-robin over the subjects. */
  async function append(count: number): Promise<void> {
    for (let done = 0; done < count; done += 50) {
      await orm.em.fork().transactional(async (tem) => {
        for (let i = done; i < Math.min(count, done + 50); i++) {
          const n = appended.length;
          const e = { id: randomUUID(), subject: subjects[n % subjects.length]!, n };
          await emitEvent(tem, Probe, { id: e.id, source: 'urn:sonet:test', subject: e.subject, data: { n } });
          appended.push(e);
        }
      });
    }
  }

  describe('when a relay stops part-way and a restarted deployment (two replicas) finishes the backlog', () => {
    it('delivers every event exactly once, in insertion order per key', async () => {
      await append(300);

      // First relay: ask it to stop right after its third batch is acknowledged by Kafka, while that batch is
      // still in flight (not yet marked). A relay error fails the test at once.
      const producer = await broker.publisher();
      let acknowledged = 0;
      let stopRequested!: (stopping: Promise<void>) => void;
      let relay1Failed!: (e: Error) => void;
      const stopped = new Promise<void>((resolve, reject) => {
        stopRequested = resolve; // adopts relay1.stop()'s promise
        relay1Failed = reject;
      });
      const relay1: OutboxRelay = new OutboxRelay(
        orm,
        {
          publish: async (records) => {
            await producer.publish(records);
            if (++acknowledged === 3) stopRequested(relay1.stop());
          },
          disconnect: async () => {},
        } satisfies MessagePublisher,
        { batchSize: 20, idleMs: 50, onError: (e) => relay1Failed(e) },
      );
      started.push(relay1);
      relay1.start();
      await stopped;

      // The in-flight batch was marked before the relay stopped: nothing published is left unmarked.
      expect(await relay1.backlog()).toBe(300 - 3 * 20);
      expect(await messagesIn(TOPIC)).toBe(3 * 20);

      // More business happens while no relay runs; then two new relay instances start side by side.
      await append(100);
      const otherBroker = new KafkaBroker({ brokers: settings.kafkaBrokers, clientId: `test-outbox-b-${sfx}` });
      const errors: Error[] = [];
      const onError = (e: Error) => void errors.push(e);
      const relays = [
        new OutboxRelay(orm, producer, { batchSize: 25, idleMs: 20, onError }),
        new OutboxRelay(orm, await otherBroker.publisher(), { batchSize: 25, idleMs: 20, onError }),
      ];
      try {
        for (const r of relays) {
          started.push(r);
          r.start();
        }
        await eventually(async () => ((await relays[0]!.backlog()) === 0 ? true : undefined), 30_000);
      } finally {
        await Promise.all(relays.map((r) => r.stop()));
        await otherBroker.close();
      }
      expect(errors).toEqual([]);

      // Read the whole topic back.
      const total = await messagesIn(TOPIC);
      const collector = await collectRecords([TOPIC]);
      try {
        await eventually(async () => (collector.records.length >= total ? true : undefined), 30_000);
      } finally {
        await collector.stop();
      }
      const received = collector.records.map((r) => ({ record: r, envelope: fromWireMessage(r) }));

      expect(total).toBe(400);
      const ids = received.map((r) => r.envelope.id);
      expect(new Set(ids).size).toBe(ids.length); // no duplicates
      expect([...ids].sort()).toEqual(appended.map((e) => e.id).sort()); // nothing missing, nothing extra

      for (const subject of subjects) {
        const consumed = received.filter((r) => r.envelope.subject === subject);
        expect(new Set(consumed.map((r) => r.record.partition)).size).toBe(1); // the key picks one partition
        expect(consumed.map((r) => (r.envelope.data as { n: number }).n)).toEqual(
          appended.filter((e) => e.subject === subject).map((e) => e.n),
        );
      }
      for (const { record, envelope } of received) {
        expect(record.key?.toString()).toBe(envelope.subject);
        expect(envelope.type).toBe(Probe.type);
      }

      const [row] = await orm.em
        .fork()
        .execute<{ unpublished: string }[]>('select count(*) filter (where published_at is null) as unpublished from outbox');
      expect(Number(row!.unpublished)).toBe(0);
    });
  });
});

describe('appending to the outbox', () => {
  let orm: MikroORM;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ orm, close } = await openDatabase('outbox_append'));
  });
  afterAll(async () => close?.());

  const rowsWithId = async (id: string) =>
    Number((await orm.em.fork().execute<{ n: string }[]>('select count(*) as n from outbox where id = ?', [id]))[0]!.n);

  const envelope = (id = randomUUID()) =>
    createEnvelope({ id, type: Probe.type, source: 'urn:sonet:test', subject: randomUUID(), data: { n: 1, text: "it's \\ ? fine" } });

  describe('when the same event id is appended twice', () => {
    it('stores one row and says the second was not new', async () => {
      const e = envelope();
      await expect(appendToOutbox(orm.em.fork(), TOPIC, e)).resolves.toBe(true);
      await expect(appendToOutbox(orm.em.fork(), TOPIC, { ...e, data: { n: 2 } })).resolves.toBe(false);

      expect(await rowsWithId(e.id)).toBe(1);
      const [row] = await orm.em
        .fork()
        .execute<{ value: string; headers: Record<string, string>; key: string; topic: string; event_type: string }[]>(
          'select value, headers, key, topic, event_type from outbox where id = ?',
          [e.id],
        );
      // The first append wins, stored as the wire message the relay will send.
      expect(JSON.parse(row!.value)).toEqual({ n: 1, text: "it's \\ ? fine" });
      expect(row).toMatchObject({ key: e.subject, topic: TOPIC, event_type: Probe.type });
      expect(row!.headers).toMatchObject({ ce_id: e.id, ce_subject: e.subject, ce_type: Probe.type });
    });
  });

  describe('when the business transaction rolls back', () => {
    it('leaves no event behind', async () => {
      const id = randomUUID();
      await expect(
        orm.em.fork().transactional(async (tem) => {
          await emitEvent(tem, Probe, { id, source: 'urn:sonet:test', subject: randomUUID(), data: { n: 1 } });
          throw new Error('business rule failed');
        }),
      ).rejects.toThrow('business rule failed');
      expect(await rowsWithId(id)).toBe(0);
    });
  });

  describe('when the data does not match the event definition', () => {
    it('refuses it before anything is written', async () => {
      const id = randomUUID();
      await expect(
        emitEvent(orm.em.fork(), Probe, { id, source: 'urn:sonet:test', subject: randomUUID(), data: { n: 1.5 } }),
      ).rejects.toThrow();
      expect(await rowsWithId(id)).toBe(0);
    });
  });
});
