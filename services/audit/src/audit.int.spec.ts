import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { MikroORM } from '@mikro-orm/postgresql';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { RecordsTransferQueued, ReferralRequested, Topics, toWireMessage, type EventEnvelope } from '@sonet/contracts';
import { buildEvent, KafkaBroker, type MessagePublisher } from '@sonet/messaging';
import { createServiceApp, runMigrations } from '@sonet/service-kit';
import { eventually, freshDatabase, integrationSettings, uniqueSuffix, testTokens } from '@sonet/testing';
import { AuditAppModule, auditInboxServer } from './app.module';
import { readAuditConfig, type AuditConfig } from './config';
import { auditOrmOptions } from './orm';
import { AppendOutsideTransactionError, AuditLog } from './domain/audit-log';
import { toAuditEntryDraft } from './record-event/record-event.handler';
import type { AuditEventView } from './domain/audit-event.view';

jest.setTimeout(120_000);

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

interface AuditRow {
  seq: string;
  event_id: string;
  event_type: string;
  source: string;
  subject: string;
  event_time: Date;
  topic: string;
  partition: number;
  kafka_offset: string;
  headers: Record<string, string>;
  data: unknown;
  recorded_at: Date;
}

const referralRequested = (referralId: string, time: string, traceparent?: string): EventEnvelope => ({
  ...buildEvent(ReferralRequested, {
    id: randomUUID(),
    source: '/sonet/referral',
    subject: referralId,
    time: new Date(time),
    data: {
      referralId,
      referringPractice: 'A81001',
      originalTeam: { ods: 'RJ1', name: 'Cardiology' },
      specialty: 'cardiology',
      urgency: 'routine',
      reason: 'Second opinion on a proposed valve replacement.',
      explainedByOriginalTeam: true,
      patient: { nhsNumber: '943 476 5919', name: 'Test Patient', email: 'patient@example.org', preferredChannel: 'email' },
      requestedAt: time,
    },
  }),
  ...(traceparent ? { traceparent } : {}),
});

const transferQueued = (referralId: string, time: string): EventEnvelope =>
  buildEvent(RecordsTransferQueued, {
    id: randomUUID(),
    source: '/sonet/records-transfer',
    subject: referralId,
    time: new Date(time),
    data: { referralId, transferId: randomUUID(), status: 'ready', queuedAt: time },
  });

/** The ce_* and trace headers the event travelled with (content-type describes the body, not the event). */
const travelledHeaders = (e: EventEnvelope): Record<string, string> => {
  const { 'content-type': _contentType, ...headers } = toWireMessage(e).headers;
  return headers;
};

describe('the audit service, against PostgreSQL and Kafka', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let config: AuditConfig;
  let app: NestFastifyApplication;
  let baseUrl: string;
  let sql: Client;
  let broker: KafkaBroker;
  let publisher: MessagePublisher;

  const publish = (topic: string, ...events: EventEnvelope[]) =>
    publisher.publish(events.map((e) => ({ topic, message: toWireMessage(e) })));

  const rowsAbout = async (referralId: string): Promise<AuditRow[]> =>
    (await sql.query<AuditRow>('select * from audit_entry where subject = $1 order by seq', [referralId])).rows;

  /** Waits until audit holds every given event id, then returns what it holds about the referral. */
  const recorded = (referralId: string, ...eventIds: string[]) =>
    eventually(async () => {
      const rows = await rowsAbout(referralId);
      return eventIds.every((id) => rows.some((r) => r.event_id === id)) ? rows : undefined;
    }, 60_000);

  let tokens: Awaited<ReturnType<typeof testTokens>>;
  const get = async (path: string) => {
    const res = await fetch(`${baseUrl}${path}`, { headers: await tokens.bearer('auditor', 'X26') });
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    const s = integrationSettings();
    tokens = await testTokens();
    db = await freshDatabase('audit');
    config = readAuditConfig({
      ...tokens.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      PGHOST: s.pg.host,
      PGPORT: String(s.pg.port),
      PGUSER: s.pg.user,
      PGPASSWORD: s.pg.password,
      PGDATABASE: db.dbName,
      KAFKA_BROKERS: s.kafkaBrokers.join(','),
      KAFKA_CONSUMER_GROUP: `audit.ingest.test-${uniqueSuffix()}`,
    });
    await runMigrations(auditOrmOptions(config));
    app = await createServiceApp({
      module: AuditAppModule.forRoot(config),
      host: '127.0.0.1',
      port: 0,
      openApi: { title: 'Audit API (test)', description: 'test', version: '1' },
      transport: (a) => auditInboxServer(a, config),
    });
    baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    sql = new Client({ ...s.pg, database: db.dbName });
    await sql.connect();
    broker = new KafkaBroker({ brokers: s.kafkaBrokers, clientId: `audit-test-${uniqueSuffix()}` });
    publisher = await broker.publisher();
  });

  afterAll(async () => {
    await broker?.close();
    await sql?.end();
    await app?.close();
    await db?.drop();
  });

  describe('when a referral is requested and its records transfer is queued', () => {
    const referralId = randomUUID();
    // The transfer is published (and recorded) first, although the request happened an hour earlier.
    const requested = referralRequested(referralId, '2026-01-10T09:00:00.000Z', TRACEPARENT);
    const queued = transferQueued(referralId, '2026-01-10T10:00:00.000Z');
    let rows: AuditRow[];

    beforeAll(async () => {
      await publish(Topics.recordsEvents, queued);
      await recorded(referralId, queued.id);
      await publish(Topics.referralEvents, requested);
      rows = await recorded(referralId, queued.id, requested.id);
    });

    it('stores each event once, in the order it was recorded', () => {
      expect(rows.map((r) => r.event_id)).toEqual([queued.id, requested.id]);
      expect(BigInt(rows[1]!.seq)).toBeGreaterThan(BigInt(rows[0]!.seq));
    });

    it('keeps the CloudEvents attributes, the trace context and where each event was read from', () => {
      const [q, r] = rows;
      expect(r).toMatchObject({
        event_type: 'referral.requested.v1',
        source: '/sonet/referral',
        subject: referralId,
        event_time: new Date('2026-01-10T09:00:00.000Z'),
        topic: Topics.referralEvents,
        headers: travelledHeaders(requested),
      });
      expect(r!.headers.traceparent).toBe(TRACEPARENT);
      expect(q).toMatchObject({ event_type: 'records.transfer-queued.v1', topic: Topics.recordsEvents, headers: travelledHeaders(queued) });
      expect(q!.headers).not.toHaveProperty('traceparent');
      for (const row of rows) {
        expect(row.partition).toBeGreaterThanOrEqual(0);
        expect(row.kafka_offset).toMatch(/^[0-9]+$/);
        expect(row.recorded_at).toBeInstanceOf(Date);
      }
    });

    it('keeps the data exactly as it was sent', () => {
      expect(rows[0]!.data).toEqual(JSON.parse(toWireMessage(queued).value.toString('utf8')));
      expect(rows[1]!.data).toEqual(JSON.parse(toWireMessage(requested).value.toString('utf8')));
    });

    it("answers the referral's timeline in the order things happened, not the order they were recorded", async () => {
      const res = await get(`/v1/audit/referrals/${referralId}/timeline`);
      expect(res.status).toBe(200);
      const items = res.body.items as AuditEventView[];
      expect(items.map((i) => i.eventId)).toEqual([requested.id, queued.id]);
      expect(items[0]).toEqual({
        seq: rows[1]!.seq,
        eventId: requested.id,
        type: 'referral.requested.v1',
        source: '/sonet/referral',
        subject: referralId,
        time: '2026-01-10T09:00:00.000Z',
        topic: Topics.referralEvents,
        recordedAt: rows[1]!.recorded_at.toISOString(),
        traceparent: TRACEPARENT,
        data: rows[1]!.data,
      });
      expect(items[1]!.traceparent).toBeNull();
    });

    it('lists the entries in recording order, a page at a time', async () => {
      const first = await get(`/v1/audit/events?referralId=${referralId}&limit=1`);
      expect(first.status).toBe(200);
      expect((first.body.items as AuditEventView[]).map((i) => i.eventId)).toEqual([queued.id]);
      expect(first.body.next).toBe(rows[0]!.seq);

      const second = await get(`/v1/audit/events?referralId=${referralId}&limit=1&after=${String(first.body.next)}`);
      expect((second.body.items as AuditEventView[]).map((i) => i.eventId)).toEqual([requested.id]);
      expect(second.body.next).toBeNull();
    });

    it('narrows the list by event type and event time', async () => {
      const byType = await get(`/v1/audit/events?referralId=${referralId}&type=records.transfer-queued.v1`);
      expect((byType.body.items as AuditEventView[]).map((i) => i.eventId)).toEqual([queued.id]);

      const byTime = await get(`/v1/audit/events?referralId=${referralId}&from=2026-01-10T08:00:00Z&to=2026-01-10T10:00:00Z`);
      expect((byTime.body.items as AuditEventView[]).map((i) => i.eventId)).toEqual([requested.id]);
    });
  });

  describe('when the same event is delivered twice', () => {
    it('keeps one entry', async () => {
      const referralId = randomUUID();
      const event = referralRequested(referralId, '2026-01-11T09:00:00.000Z');
      // Same key, same partition: once the later event is in, both copies of the first have been handled.
      const later = transferQueued(referralId, '2026-01-11T09:05:00.000Z');
      await publish(Topics.referralEvents, event);
      await publish(Topics.referralEvents, event, later);

      const rows = await recorded(referralId, event.id, later.id);

      expect(rows.filter((r) => r.event_id === event.id)).toHaveLength(1);
      expect(rows).toHaveLength(2);
    });
  });

  describe('when an event id is appended again past the inbox (a replay under another consumer group)', () => {
    it('keeps the first entry and reports the second as a duplicate', async () => {
      const referralId = randomUUID();
      const event = transferQueued(referralId, '2026-01-12T09:00:00.000Z');
      const auditLog = app.get(AuditLog);
      const em = app.get(MikroORM).em.fork();

      const first = await em.transactional((tem) =>
        auditLog.append(tem, toAuditEntryDraft(event, { topic: Topics.recordsEvents, partition: 0, offset: '1', headers: toWireMessage(event).headers })),
      );
      const again = await em.transactional((tem) =>
        auditLog.append(tem, toAuditEntryDraft(event, { topic: Topics.recordsEvents, partition: 5, offset: '99', headers: toWireMessage(event).headers })),
      );

      expect(first.outcome).toBe('recorded');
      expect(again).toEqual({ outcome: 'duplicate' });
      const rows = await rowsAbout(referralId);
      expect(rows.map((r) => [r.partition, r.kafka_offset])).toEqual([[0, '1']]);
    });

    it('refuses to append outside a transaction, where the ordering lock would not hold', async () => {
      const event = transferQueued(randomUUID(), '2026-01-12T09:00:00.000Z');
      await expect(
        app.get(AuditLog).append(app.get(MikroORM).em.fork(), toAuditEntryDraft(event, { topic: Topics.recordsEvents, partition: 0, offset: '1', headers: toWireMessage(event).headers })),
      ).rejects.toBeInstanceOf(AppendOutsideTransactionError);
    });
  });

  describe('when someone tries to change the log', () => {
    let row: AuditRow;

    beforeAll(async () => {
      const referralId = randomUUID();
      const event = transferQueued(referralId, '2026-01-13T09:00:00.000Z');
      await publish(Topics.recordsEvents, event);
      [row] = (await recorded(referralId, event.id)) as [AuditRow];
    });

    it('refuses to update an entry', async () => {
      await expect(sql.query(`update audit_entry set data = '{"status":"cancelled"}' where seq = $1`, [row.seq])).rejects.toThrow(
        'audit_entry is append-only: UPDATE is not allowed',
      );
    });

    it('refuses to delete an entry', async () => {
      await expect(sql.query('delete from audit_entry where seq = $1', [row.seq])).rejects.toThrow(
        'audit_entry is append-only: DELETE is not allowed',
      );
    });

    it('refuses to empty the table', async () => {
      await expect(sql.query('truncate audit_entry')).rejects.toThrow('audit_entry is append-only: TRUNCATE is not allowed');
    });

    it('still holds the entry as recorded', async () => {
      const [now] = (await sql.query<AuditRow>('select * from audit_entry where seq = $1', [row.seq])).rows;
      expect(now).toEqual(row);
    });
  });

  describe('when a query is malformed', () => {
    it.each([
      ['no narrowing filter', '/v1/audit/events', 'referralId|type|from'],
      ['a referral id that is not a UUID', '/v1/audit/events?referralId=12345', 'referralId'],
      ['a page size out of range', `/v1/audit/events?type=referral.requested.v1&limit=5000`, 'limit'],
      ['a time range that ends before it starts', '/v1/audit/events?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'to'],
    ])('answers 400 problem+json for %s', async (_what, path, param) => {
      const res = await get(path);
      expect(res.status).toBe(400);
      expect(res.contentType).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ type: 'urn:sonet:problem:validation', status: 400 });
      expect((res.body['invalid-params'] as { name: string }[]).map((p) => p.name)).toContain(param);
    });

    it('answers 400 problem+json for a timeline of something that is not a referral id', async () => {
      const res = await get('/v1/audit/referrals/not-a-uuid/timeline');
      expect(res.status).toBe(400);
      expect(res.contentType).toMatch(/^application\/problem\+json/);
    });
  });

  describe('health', () => {
    it('is live, and ready while the database and Kafka answer', async () => {
      expect((await get('/health/live')).status).toBe(200);
      const ready = await get('/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' }, kafka: { status: 'up' } } });
    });
  });

  describe('access control', () => {
    it('refuses callers without a token (401 problem+json)', async () => {
      const res = await fetch(`${baseUrl}/v1/audit/events?type=referral.requested.v1`);
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    });

    it('refuses every role but auditor (403)', async () => {
      for (const [role, org] of [['gp', 'A81001'], ['clinician', 'RJ1'], ['ops', 'X26']] as const) {
        const res = await fetch(`${baseUrl}/v1/audit/events?type=referral.requested.v1`, { headers: await tokens.bearer(role, org) });
        expect(res.status).toBe(403);
      }
    });
  });
});
