import { randomUUID } from 'node:crypto';
import { MikroORM, PostgreSqlDriver } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { defineEvent, type TopicName } from '@sonet/contracts';
import { eventually, freshDatabase, integrationSettings } from '@sonet/testing';
import { emitEvent } from './outbox';
import { OutboxRelay } from './relay';
import type { MessagePublisher, OutgoingRecord } from '../port';
import { MESSAGING_SCHEMA_V1, MESSAGING_SCHEMA_V2_OUTBOX_WRITTEN } from '../schema';

/*
 * The relay woken by the outbox's commit notifications, on a real PostgreSQL. Its polls are a minute apart here,
 * so a row published within seconds was published because its commit was notified.
 */
jest.setTimeout(60_000);

const settings = integrationSettings();
const MINUTE = 60_000;

const Probe = defineEvent({
  type: 'test.outbox-wake-probe.v1',
  topic: 'test.outbox-wake.v1' as TopicName,
  description: 'Outbox listener integration test event.',
  schema: z.object({ n: z.number().int() }),
});

describe('outbox relay woken by commit notifications', () => {
  let orm: MikroORM;
  let drop: () => Promise<void>;
  let dbName: string;
  let relay: OutboxRelay;
  const published: { id: string; at: number }[] = [];
  const errors: Error[] = [];

  beforeAll(async () => {
    const db = await freshDatabase('outbox_wake');
    dbName = db.dbName;
    drop = db.drop;
    const connection = { host: settings.pg.host, port: settings.pg.port, user: settings.pg.user, password: settings.pg.password };
    orm = await MikroORM.init({
      driver: PostgreSqlDriver,
      dbName,
      ...connection,
      entities: [],
      discovery: { warnWhenNoEntities: false },
      pool: { min: 0, max: 4 },
    });
    await orm.em.fork().execute(MESSAGING_SCHEMA_V1 + MESSAGING_SCHEMA_V2_OUTBOX_WRITTEN);
    const publisher: MessagePublisher = {
      publish: async (records: readonly OutgoingRecord[]) => {
        for (const r of records) published.push({ id: String(r.message.headers?.['ce_id'] ?? r.message.key), at: Date.now() });
      },
      disconnect: async () => {},
    };
    relay = new OutboxRelay(orm, publisher, {
      idleMs: MINUTE,
      idleWhileListeningMs: MINUTE,
      listen: { ...connection, database: dbName },
      onError: (e) => void errors.push(e),
    });
    relay.start();
    await eventually(async () => (relay.listening ? true : undefined), 10_000);
  });

  afterAll(async () => {
    await relay?.stop();
    await orm?.close(true);
    await drop?.();
  });

  const append = (em = orm.em.fork()) =>
    em.transactional(async (tem) => {
      const subject = randomUUID();
      await emitEvent(tem, Probe, { id: randomUUID(), source: 'urn:sonet:test', subject, data: { n: 1 } });
      return subject;
    });
  const publishedCount = () => published.length;

  it('publishes a row as soon as its transaction commits, not on the next poll', async () => {
    const before = publishedCount();
    const t0 = Date.now();
    await append();
    await eventually(async () => (publishedCount() > before ? true : undefined), 5_000);
    expect(published.at(-1)!.at - t0).toBeLessThan(5_000);
  });

  it('is not woken by a row whose transaction has not committed yet', async () => {
    const before = publishedCount();
    const em = orm.em.fork();
    await em.begin();
    await emitEvent(em, Probe, { id: randomUUID(), source: 'urn:sonet:test', subject: randomUUID(), data: { n: 2 } });
    await new Promise((r) => setTimeout(r, 500));
    expect(publishedCount()).toBe(before);
    await em.commit();
    await eventually(async () => (publishedCount() > before ? true : undefined), 5_000);
  });

  it('listens again after its connection is cut, and publishes what was written meanwhile', async () => {
    const admin = orm.em.fork();
    const cut = await admin.execute<{ pid: number }[]>(
      `select pg_terminate_backend(pid) as pid from pg_stat_activity where datname = ? and query ilike 'listen %'`,
      [dbName],
    );
    expect(cut).toHaveLength(1);
    await eventually(async () => (!relay.listening ? true : undefined), 5_000);
    const before = publishedCount();
    await append(); // written while nobody listens: its notification is lost
    await eventually(async () => (relay.listening ? true : undefined), 15_000);
    await eventually(async () => (publishedCount() > before ? true : undefined), 5_000);
    // Listening again, a new commit is published at once.
    const again = publishedCount();
    await append();
    await eventually(async () => (publishedCount() > again ? true : undefined), 5_000);
    expect(errors.length).toBeGreaterThan(0); // the cut was reported
  });
});
