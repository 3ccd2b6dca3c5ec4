import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { MikroORM } from '@mikro-orm/postgresql';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { RecordsTransferQueued, ReferralRequested, ReferralRequestedV2, Topics, toWireMessage, type EventEnvelope } from '@sonet/contracts';
import { buildEvent, KafkaBroker, sealField, type DataKey, type MessagePublisher } from '@sonet/messaging';
import { createServiceApp, runMigrations } from '@sonet/service-kit';
import { eventually, freshDatabase, integrationSettings, randomTestNhsNumber, testTokens, uniqueSuffix } from '@sonet/testing';
import { AuditAppModule, auditInboxServer } from './app.module';
import { readAuditConfig, type AuditConfig } from './config';
import { auditOwnerOrmOptions } from './orm';
import { AppendOutsideTransactionError, AuditLog } from './domain/audit-log';
import { CheckpointKeyring, CheckpointSigner } from './domain/checkpoint';
import { verifyEvidence, fromNdjson } from './domain/evidence';
import { packFromFhirBundle, type FhirResource } from './domain/fhir';
import { parseEntry } from './domain/entry-document';
import { CheckpointService } from './checkpoints/checkpoint.service';
import { toAuditEntryDraft } from './record-event/record-event.handler';
import type { AuditEventView } from './domain/audit-event.view';
import type { DatabaseVerifyReport } from './verify-log/verify-log';
import { runCli } from './cli';
import { applyRetention } from './retention/retention';
import { importLegacyEntries } from './retention/legacy-import';
import { verifyDatabase } from './verify-log/verify-log';
import { RETENTION_EVENT_TYPE } from './domain/retention-entry';
import { PatientKeyer } from './domain/patient-identifiers';
import { AUDIT_WRITER_ROLE } from './migrations/Migration20261125100000_hash_chain';
import { ExportEvidenceHandler } from './export-evidence/export-evidence.handler';
import { QueryEventsHandler, type EventsFilter } from './query-events/query-events.handler';
import { ReferralTimelineHandler } from './referral-timeline/referral-timeline.handler';
import { BAD_VALUES, badQueries, encode, ID_PATHS, PARAM_CASES, queryString } from '../test/bad-query.table';

jest.setTimeout(120_000);

/** A connection as the superuser the tests run as (the schema's owner), for what the service may not do. */
export async function owner(database: string): Promise<Client> {
  const c = new Client({ ...integrationSettings().pg, database });
  await c.connect();
  return c;
}

/** The service's role exists cluster-wide (infra/local/postgres.sh creates it; tests may run against an older cluster). */
export async function ensureWriterRole(): Promise<void> {
  const c = await owner('postgres');
  try {
    await c.query(`do $$ begin
      if not exists (select from pg_roles where rolname = '${AUDIT_WRITER_ROLE}') then
        create role ${AUDIT_WRITER_ROLE} login password '${AUDIT_WRITER_ROLE}';
      end if;
    exception when duplicate_object then null; end $$`);
  } finally {
    await c.end();
  }
}

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

interface EntryRow {
  seq: string;
  event_id: string;
  event_type: string;
  subject: string;
  canonical: string;
  recorded_at: Date;
}

const referralRequested = (referralId: string, time: string, nhsNumber: string, traceparent?: string): EventEnvelope => ({
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
      patient: { nhsNumber, name: 'Test Patient', email: 'patient@example.org', preferredChannel: 'email' },
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

const received = (e: EventEnvelope, partition = 0, offset = '1') => {
  const wire = toWireMessage(e);
  return { topic: Topics.recordsEvents, partition, offset, headers: wire.headers, payload: wire.value };
};

describe('the audit service, against PostgreSQL and Kafka', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let config: AuditConfig;
  let app: NestFastifyApplication;
  let ingest: ReturnType<typeof auditInboxServer> | undefined;
  let baseUrl: string;
  let sql: Client;
  let broker: KafkaBroker;
  let publisher: MessagePublisher;
  let keyring: CheckpointKeyring;
  let publicKeyFile: string;
  let tokens: Awaited<ReturnType<typeof testTokens>>;
  const dir = mkdtempSync(join(tmpdir(), 'sonet-audit-'));
  /** The referral service's key endpoint (ADR 14): the keys it would answer, by referral. */
  const dataKeys = new Map<string, DataKey>();
  const keyServer: Server = createServer((req, res) => {
    const id = (req.url ?? '').split('/').pop() ?? '';
    const k = dataKeys.get(id);
    if (!k) return void res.writeHead(410).end();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ referralId: id, kid: k.kid, alg: 'A256GCM', key: k.key.toString('base64url') }));
  });

  const publish = (topic: string, ...events: EventEnvelope[]) =>
    publisher.publish(events.map((e) => ({ topic, message: toWireMessage(e) })));
  const rowsAbout = async (referralId: string): Promise<EntryRow[]> =>
    (
      await sql.query<EntryRow>(
        'select seq::text as seq, event_id, event_type, subject, canonical, recorded_at from audit_entry where subject = $1 order by audit_entry.seq',
        [referralId],
      )
    ).rows;
  /** Waits until audit holds every given event id, then returns what it holds about the referral. */
  const recorded = (referralId: string, ...eventIds: string[]) =>
    eventually(async () => {
      const rows = await rowsAbout(referralId);
      return eventIds.every((id) => rows.some((r) => r.event_id === id)) ? rows : undefined;
    }, 60_000);
  const request = async (
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    as: Parameters<typeof tokens.bearer> = ['auditor', 'X26'],
  ) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { ...(await tokens.bearer(...as)), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // NDJSON
    }
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, body: parsed as Record<string, unknown> };
  };
  const get = (path: string, as?: Parameters<typeof tokens.bearer>) => request('GET', path, undefined, as);
  const verify = async () => (await get('/v1/audit/verify')).body as unknown as DatabaseVerifyReport;

  beforeAll(async () => {
    const s = integrationSettings();
    tokens = await testTokens();
    await ensureWriterRole();
    await new Promise<void>((r) => keyServer.listen(0, '127.0.0.1', r));
    db = await freshDatabase('audit');
    config = readAuditConfig({
      ...tokens.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      PGHOST: s.pg.host,
      PGPORT: String(s.pg.port),
      PGOWNER_USER: s.pg.user,
      PGOWNER_PASSWORD: s.pg.password,
      PGDATABASE: db.dbName,
      KAFKA_BROKERS: s.kafkaBrokers.join(','),
      KAFKA_CONSUMER_GROUP: `audit.ingest.test-${uniqueSuffix()}`,
      AUDIT_CHECKPOINT_KEY_FILE: join(dir, 'key.pem'),
      AUDIT_CHECKPOINT_LOG_FILE: join(dir, 'checkpoints.ndjson'),
      AUDIT_CHECKPOINT_EVERY_ENTRIES: '5',
      AUDIT_CHECKPOINT_EVERY_SECONDS: '3600',
      REFERRAL_SERVICE_URL: `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}`,
    });
    await runMigrations(auditOwnerOrmOptions(config));
    app = await createServiceApp({
      module: AuditAppModule.forRoot(config),
      host: '127.0.0.1',
      port: 0,
      openApi: { title: 'Audit API (test)', description: 'test', version: '1' },
      transport: (a) => (ingest = auditInboxServer(a, config)),
    });
    baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    sql = await owner(db.dbName);
    broker = new KafkaBroker({ brokers: s.kafkaBrokers, clientId: `audit-test-${uniqueSuffix()}` });
    publisher = await broker.publisher();
    const signer = app.get(CheckpointSigner);
    keyring = CheckpointKeyring.fromPem(signer.publicKeyPem());
    publicKeyFile = join(dir, 'public.pem');
    writeFileSync(publicKeyFile, signer.publicKeyPem());
  });

  afterAll(async () => {
    keyServer.close();
    await broker?.close();
    await sql?.end();
    await app?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('when a referral is requested and its records transfer is queued', () => {
    const referralId = randomUUID();
    const nhsNumber = randomTestNhsNumber();
    // The transfer is published (and recorded) first, although the request happened an hour earlier.
    const requested = referralRequested(referralId, '2026-01-10T09:00:00.000Z', nhsNumber, TRACEPARENT);
    const queued = transferQueued(referralId, '2026-01-10T10:00:00.000Z');
    let rows: EntryRow[];

    beforeAll(async () => {
      await publish(Topics.recordsEvents, queued);
      await recorded(referralId, queued.id);
      await publish(Topics.referralEvents, requested);
      rows = await recorded(referralId, queued.id, requested.id);
    });

    it('stores each event once, in chain order', () => {
      expect(rows.map((r) => r.event_id)).toEqual([queued.id, requested.id]);
      expect(BigInt(rows[1]!.seq)).toBeGreaterThan(BigInt(rows[0]!.seq));
    });

    it('keeps the CloudEvents attributes, the trace context, where it was read and a digest of the body as sent', () => {
      const d = parseEntry(rows[1]!.canonical);
      expect(d.event).toMatchObject({
        id: requested.id,
        type: 'referral.requested.v1',
        source: '/sonet/referral',
        subject: referralId,
        time: '2026-01-10T09:00:00.000Z',
      });
      expect(d.headers).toMatchObject({ traceparent: TRACEPARENT, ce_specversion: '1.0' });
      expect(d.received.topic).toBe(Topics.referralEvents);
      expect(d.payloadSha256).toMatch(/^[0-9a-f]{64}$/);
    });

    it('stores no patient identifier in clear: the NHS number, name and email become keyed digests', async () => {
      const all = (
        await sql.query<{ t: string }>(
          "select string_agg(canonical, '') || string_agg(coalesce(patient_key, ''), '') as t from audit_entry",
        )
      ).rows[0]!.t;
      expect(all).not.toContain(nhsNumber);
      expect(all).not.toContain('Test Patient');
      expect(all).not.toContain('patient@example.org');
      expect(parseEntry(rows[1]!.canonical).protected).toEqual(['patient.nhsNumber', 'patient.name', 'patient.email']);
    });

    it("answers the referral's timeline in the order things happened, not the order they were recorded", async () => {
      const res = await get(`/v1/audit/referrals/${referralId}/timeline`);
      expect(res.status).toBe(200);
      const items = res.body.items as AuditEventView[];
      expect(items.map((i) => i.eventId)).toEqual([requested.id, queued.id]);
      expect(items[0]).toMatchObject({
        seq: rows[1]!.seq,
        type: 'referral.requested.v1',
        time: '2026-01-10T09:00:00.000Z',
        traceparent: TRACEPARENT,
        topic: Topics.referralEvents,
      });
      expect(items[1]!.traceparent).toBeNull();
    });

    it('records the auditor reading the timeline as an access event, which joins the log', async () => {
      await get(`/v1/audit/referrals/${referralId}/timeline`);
      const access = await eventually(async () => {
        const r = await rowsAbout(referralId);
        const a = r.filter((x) => x.event_type === 'access.recorded.v1');
        return a.length > 0 ? a : undefined;
      }, 60_000);
      expect(parseEntry(access[0]!.canonical).event.data).toMatchObject({
        referralId,
        actor: { role: 'auditor', organisation: 'X26' },
        purpose: 'audit',
        resource: { service: 'audit', kind: 'audit-timeline', action: 'read' },
      });
    });

    it("finds the patient's entries by NHS number, sent in the body, across the referral's events", async () => {
      const res = await request('POST', '/v1/audit/events/search', {
        nhsNumber: nhsNumber.replace(/(\d{3})(\d{3})(\d{4})/, '$1 $2 $3'),
        type: 'records.transfer-queued.v1',
      });
      expect(res.status).toBe(200);
      expect((res.body.items as AuditEventView[]).map((i) => i.eventId)).toEqual([queued.id]);
    });

    it('honours Idempotency-Key on the search (every POST takes it): the same key and body answer the first answer', async () => {
      const key = randomUUID();
      const search = async (body: unknown) =>
        fetch(`${baseUrl}/v1/audit/events/search`, {
          method: 'POST',
          headers: { ...(await tokens.bearer('auditor', 'X26')), 'content-type': 'application/json', 'idempotency-key': key },
          body: JSON.stringify(body),
        });
      const first = await search({ nhsNumber, type: 'records.transfer-queued.v1' });
      const again = await search({ nhsNumber, type: 'records.transfer-queued.v1' });
      expect(again.status).toBe(200);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await again.json()).toEqual(await first.json());
      expect((await search({ nhsNumber, type: 'referral.requested.v1' })).status).toBe(422);
    });

    it('lists the entries in chain order, a page at a time', async () => {
      const first = await get(`/v1/audit/events?referralId=${referralId}&limit=1`);
      expect(first.status).toBe(200);
      expect((first.body.items as AuditEventView[]).map((i) => i.eventId)).toEqual([queued.id]);
      expect(first.body.next).toBe(rows[0]!.seq);
      const second = await get(`/v1/audit/events?referralId=${referralId}&type=referral.requested.v1&after=${String(first.body.next)}`);
      expect((second.body.items as AuditEventView[]).map((i) => i.eventId)).toEqual([requested.id]);
    });

    it('exports an evidence pack, NDJSON and FHIR, that verifies offline against the public key', async () => {
      const ndjson = await get(`/v1/audit/referrals/${referralId}/export`);
      expect(ndjson.status).toBe(200);
      expect(ndjson.contentType).toMatch(/^application\/x-ndjson/);
      const pack = fromNdjson(ndjson.text);
      expect(pack.entries.length).toBeGreaterThanOrEqual(2);
      expect(verifyEvidence(pack, keyring)).toMatchObject({ ok: true, problems: [] });

      const fhir = await get(`/v1/audit/referrals/${referralId}/export?format=fhir`);
      expect(fhir.contentType).toMatch(/^application\/fhir\+json/);
      expect(fhir.body).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
      expect(verifyEvidence(packFromFhirBundle(fhir.body as unknown as FhirResource), keyring).ok).toBe(true);

      const file = join(dir, 'pack.ndjson');
      writeFileSync(file, ndjson.text);
      const out: string[] = [];
      expect(
        await runCli(['verify-export', file, '--public-key', publicKeyFile], {}, { out: (t) => out.push(t), err: () => undefined }),
      ).toBe(0);
      writeFileSync(file, ndjson.text.replace('"referringPractice\\":\\"A81001', '"referringPractice\\":\\"B82005'));
      expect(await runCli(['verify-export', file, '--public-key', publicKeyFile], {}, { out: () => undefined, err: () => undefined })).toBe(
        2,
      );

      // An entry line taken out still leaves a proof-valid pack: the seal reports it (ADR 0011).
      const lines = ndjson.text.split('\n');
      const firstEntry = lines.findIndex((l) => l.startsWith('{"record":"entry"'));
      writeFileSync(file, lines.filter((_, i) => i !== firstEntry).join('\n'));
      const report: string[] = [];
      expect(
        await runCli(['verify-export', file, '--public-key', publicKeyFile], {}, { out: (t) => report.push(t), err: () => undefined }),
      ).toBe(2);
      expect((JSON.parse(report.join('')) as { problems: string[] }).problems).toContain(
        `the pack lost its first entries: ${pack.entries[0]!.seq} (it starts at ${pack.entries[1]!.seq} but was sealed from ${pack.entries[0]!.seq})`,
      );
    });
  });

  describe('when the same event is delivered twice', () => {
    it('keeps one entry', async () => {
      const referralId = randomUUID();
      const event = referralRequested(referralId, '2026-01-11T09:00:00.000Z', randomTestNhsNumber());
      // Same key, same partition: once the later event is in, both copies of the first have been handled.
      const later = transferQueued(referralId, '2026-01-11T09:05:00.000Z');
      await publish(Topics.referralEvents, event);
      await publish(Topics.referralEvents, event, later);
      const rows = await recorded(referralId, event.id, later.id);
      expect(rows.filter((r) => r.event_id === event.id)).toHaveLength(1);
      expect(rows).toHaveLength(2);
    });

    it('keeps one entry when the same id is appended again past the inbox (a replay under another consumer group)', async () => {
      const referralId = randomUUID();
      const event = transferQueued(referralId, '2026-01-12T09:00:00.000Z');
      const auditLog = app.get(AuditLog);
      const em = app.get(MikroORM).em.fork();
      const first = await em.transactional((tem) => auditLog.append(tem, toAuditEntryDraft(event, received(event, 0, '1'))));
      const again = await em.transactional((tem) =>
        auditLog.appendBatch(tem, [
          toAuditEntryDraft(event, received(event, 5, '99')),
          toAuditEntryDraft(event, received(event, 5, '100')),
        ]),
      );
      expect(first.outcome).toBe('recorded');
      expect(again.recorded).toEqual([]);
      expect(await rowsAbout(referralId)).toHaveLength(1);
    });

    it('refuses to append outside a transaction, where the chain lock would not hold', async () => {
      const event = transferQueued(randomUUID(), '2026-01-12T09:00:00.000Z');
      await expect(app.get(AuditLog).append(app.get(MikroORM).em.fork(), toAuditEntryDraft(event, received(event)))).rejects.toBeInstanceOf(
        AppendOutsideTransactionError,
      );
    });
  });

  describe('when many writers append at once', () => {
    it('keeps one unbroken chain: every seq once, each entry linked to the one before', async () => {
      const auditLog = app.get(AuditLog);
      const orm = app.get(MikroORM);
      const referralId = randomUUID();
      const writers = Array.from({ length: 8 }, (_, w) =>
        (async () => {
          for (let b = 0; b < 5; b++) {
            const events = Array.from({ length: 7 }, (_, i) => transferQueued(referralId, `2026-02-0${1 + (w % 8)}T10:0${b}:0${i}.000Z`));
            await orm.em.fork().transactional((tem) =>
              auditLog.appendBatch(
                tem,
                events.map((e) => toAuditEntryDraft(e, received(e, w, String(b)))),
              ),
            );
          }
        })(),
      );
      // Kafka ingestion runs beside them.
      const other = randomUUID();
      const viaKafka = Array.from({ length: 20 }, (_, i) => transferQueued(other, `2026-02-10T10:00:${String(i).padStart(2, '0')}.000Z`));
      await publish(Topics.recordsEvents, ...viaKafka);
      await Promise.all(writers);
      await recorded(other, ...viaKafka.map((e) => e.id));
      expect(await rowsAbout(referralId)).toHaveLength(8 * 5 * 7);
      const seqs = (
        await sql.query<{ gaps: string; n: string; max: string }>(
          'select count(*)::text as n, max(seq)::text as max, (max(seq) - count(*))::text as gaps from audit_entry',
        )
      ).rows[0]!;
      expect(seqs.gaps).toBe('0');
      const report = await verify();
      expect(report).toMatchObject({ ok: true, firstBreak: null, schema: [] });
      expect(report.checkpointsChecked).toBeGreaterThan(0);
    });
  });

  describe('when the patient is sealed under the referral’s key (referral.requested.v2, ADR 14)', () => {
    /** The request of referral.requested.v1's fixture, its patient sealed under `key` (as the referral service sends it now). */
    const sealedRequest = (referralId: string, nhsNumber: string, key: DataKey) => {
      const v1 = referralRequested(referralId, '2026-01-11T09:00:00.000Z', nhsNumber);
      const at = { referralId, eventType: ReferralRequestedV2.type, field: 'patient' };
      const patient = sealField(key, at, (v1.data as { patient: unknown }).patient);
      const event = buildEvent(ReferralRequestedV2, {
        id: randomUUID(),
        source: '/sonet/referral',
        subject: referralId,
        data: { ...(v1.data as object), patient } as never,
      });
      return { event, patient };
    };

    it('keeps the block sealed in the chain and finds the entry by the NHS number it opens to', async () => {
      const referralId = randomUUID();
      const nhsNumber = randomTestNhsNumber();
      const key: DataKey = { kid: 'kid-1', key: randomBytes(32) };
      dataKeys.set(referralId, key);
      const { event: sealed, patient } = sealedRequest(referralId, nhsNumber, key);
      await publish(Topics.referralEvents, sealed);
      const [row] = await recorded(referralId, sealed.id);
      expect(parseEntry(row!.canonical).event.data).toMatchObject({ patient });
      expect(row!.canonical).not.toContain(nhsNumber);
      expect(row!.canonical).not.toContain('Test Patient');
      const found = await request('POST', '/v1/audit/events/search', { nhsNumber, type: ReferralRequestedV2.type });
      expect((found.body.items as AuditEventView[]).map((i) => i.eventId)).toEqual([sealed.id]);
    });

    it('records an event whose key was destroyed all the same, unindexed by patient, and the chain still verifies', async () => {
      const referralId = randomUUID();
      const nhsNumber = randomTestNhsNumber();
      const { event: erased } = sealedRequest(referralId, nhsNumber, { kid: 'kid-1', key: randomBytes(32) });
      await publish(Topics.referralEvents, erased);
      await recorded(referralId, erased.id);
      const found = await request('POST', '/v1/audit/events/search', { nhsNumber, type: ReferralRequestedV2.type });
      expect(found.body.items).toEqual([]);
      expect(await verify()).toMatchObject({ ok: true, breaks: [] });
    });
  });

  describe('queries', () => {
    const a = randomUUID();
    const b = randomUUID();
    let made: { id: string; subject: string; type: string; actor: string | null; orgs: string[]; time: string; seq: string }[] = [];

    beforeAll(async () => {
      const auditLog = app.get(AuditLog);
      const access = (subject: string, actor: string, organisation: string, time: string): EventEnvelope => ({
        specversion: '1.0',
        id: randomUUID(),
        type: 'access.recorded.v1',
        source: '/sonet/referral',
        subject,
        time,
        datacontenttype: 'application/json',
        data: {
          accessId: randomUUID(),
          referralId: subject,
          actor: { subject: actor, role: 'clinician', organisation },
          purpose: 'direct-care',
          resource: { service: 'referral', kind: 'referral', action: 'read' },
          accessedAt: time,
        },
      });
      const events = [
        access(a, 'dr-a', 'RJ1', '2026-03-01T10:00:00.000Z'),
        access(a, 'dr-b', 'RXH', '2026-03-02T10:00:00.000Z'),
        access(b, 'dr-a', 'RJ1', '2026-03-03T10:00:00.000Z'),
        transferQueued(b, '2026-03-04T10:00:00.000Z'),
        access(b, 'dr-a', 'RXH', '2026-03-05T10:00:00.000Z'),
      ];
      const r = await app
        .get(MikroORM)
        .em.fork()
        .transactional((tem) =>
          auditLog.appendBatch(
            tem,
            events.map((e) => toAuditEntryDraft(e, received(e))),
          ),
        );
      made = events.map((e, i) => {
        const d = e.data as { actor?: { subject: string; organisation: string } };
        return {
          id: e.id,
          subject: e.subject,
          type: e.type,
          actor: d.actor?.subject ?? null,
          orgs: d.actor ? [d.actor.organisation] : [],
          time: e.time,
          seq: r.recorded[i]!.seq,
        };
      });
    });

    it.each<[string, string, (m: (typeof made)[number]) => boolean]>([
      ['an actor', 'actor=dr-a', (m) => m.actor === 'dr-a'],
      ['an actor and an organisation', 'actor=dr-a&organisation=RXH', (m) => m.actor === 'dr-a' && m.orgs.includes('RXH')],
      [
        'a referral and a time range',
        `referralId=${b}&from=2026-03-03T00:00:00Z&to=2026-03-05T00:00:00Z`,
        (m) => m.subject === b && m.time >= '2026-03-03' && m.time < '2026-03-05',
      ],
      [
        'a type and an organisation',
        'type=access.recorded.v1&organisation=RJ1',
        (m) => m.type === 'access.recorded.v1' && m.orgs.includes('RJ1'),
      ],
    ])('returns exactly the entries matching %s', async (_what, qs, match) => {
      const res = await get(`/v1/audit/events?${qs}&limit=500`);
      expect(res.status).toBe(200);
      const ids = (res.body.items as AuditEventView[]).map((i) => i.eventId).filter((id) => made.some((m) => m.id === id));
      const others = (res.body.items as AuditEventView[]).filter(
        (i) => !made.some((m) => m.id === i.eventId) && (i.subject === a || i.subject === b) && i.type !== 'access.recorded.v1',
      );
      expect(ids).toEqual(made.filter(match).map((m) => m.id));
      expect(others).toEqual([]);
    });

    it.each([
      ['no narrowing filter', '/v1/audit/events', 'referralId|nhsNumber|actor|organisation|type|from'],
      ['a referral id that is not a UUID', '/v1/audit/events?referralId=12345', 'referralId'],
      ['a page size out of range', '/v1/audit/events?type=referral.requested.v1&limit=5000', 'limit'],
      ['a time range that ends before it starts', '/v1/audit/events?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'to'],
      ['an organisation that is not an ODS code', '/v1/audit/events?organisation=no%20such', 'organisation'],
      ['an NHS number in the URL', '/v1/audit/events?nhsNumber=9434765919', 'nhsNumber'],
      ['a verify start that is not a sequence number', '/v1/audit/verify?from=abc', 'from'],
      ['an unknown export format', `/v1/audit/referrals/${randomUUID()}/export?format=pdf`, 'format'],
    ])('answers 400 problem+json for %s', async (_what, path, param) => {
      const res = await get(path);
      expect(res.status).toBe(400);
      expect(res.contentType).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ type: 'urn:sonet:problem:validation', status: 400 });
      if (param) expect((res.body['invalid-params'] as { name: string }[]).map((p) => p.name)).toContain(param);
      expect(res.text).not.toContain('9434765919');
    });

    // The class, over HTTP: every parameter of every GET endpoint, every hostile shape (services/audit/src/http/bad-query.table.ts).
    // Fastify's query parser leaves an escape that is not UTF-8 as its literal text (`%ED%A0%80`): harmless as an actor
    // id, so that one case is checked in-process only (http/query-params.spec.ts).
    const overHttp = badQueries().filter(([, param, name]) => !(param === 'actor' && name === 'a lone surrogate'));
    it.each(overHttp)('%s answers 400 problem+json naming %s for %s, never a 5xx', async (endpoint, param, _name, value, rest) => {
      const path = PARAM_CASES.find((c) => c.endpoint === endpoint)!.path;
      const res = await get(`${path}?${queryString(param, value, rest)}`);
      expect({ status: res.status, contentType: res.contentType }).toEqual({
        status: 400,
        contentType: expect.stringMatching(/^application\/problem\+json/) as unknown,
      });
      expect((res.body['invalid-params'] as { name: string }[]).map((p) => p.name)).toContain(param);
      if (String(value).length > 2) expect(res.text).not.toContain(String(value));
    });

    it.each(
      ID_PATHS.flatMap(({ endpoint, path }) =>
        Object.entries(BAD_VALUES)
          .filter(([, v]) => typeof v === 'string' && v !== '')
          .map(([name, v]) => [endpoint, name, path(encode(v as string))]),
      ),
    )('%s answers a 4xx problem+json for an id that is %s, never a 5xx', async (_endpoint, _name, path) => {
      const res = await get(path);
      // 414 for an id over Fastify's path-parameter limit: still a client error, still problem+json.
      expect([400, 414]).toContain(res.status);
      expect(res.contentType).toMatch(/^application\/problem\+json/);
    });
  });

  describe('when someone tries to change the log', () => {
    let row: EntryRow;

    beforeAll(async () => {
      const referralId = randomUUID();
      const event = transferQueued(referralId, '2026-01-13T09:00:00.000Z');
      await publish(Topics.recordsEvents, event);
      [row] = (await recorded(referralId, event.id)) as [EntryRow];
    });

    it.each([
      [
        'update an entry',
        'update audit_entry set event_type = event_type where seq = $1',
        'audit_entry is append-only: UPDATE is not allowed',
      ],
      ['delete an entry', 'delete from audit_entry where seq = $1', 'audit_entry is append-only: DELETE is not allowed'],
      ['empty the log', 'truncate audit_entry', 'audit_entry is append-only: TRUNCATE is not allowed'],
      ['delete a checkpoint', 'delete from audit_checkpoint where seq > 0', 'audit_checkpoint is append-only: DELETE is not allowed'],
    ])('refuses the owner to %s', async (_what, statement, message) => {
      await expect(sql.query(statement, statement.includes('$1') ? [row.seq] : [])).rejects.toThrow(message);
    });

    it('refuses to empty a month partition directly', async () => {
      const [p] = (await sql.query<{ p: string }>(`select tableoid::regclass::text as p from audit_entry where seq = $1`, [row.seq])).rows;
      await expect(sql.query(`truncate ${p!.p}`)).rejects.toThrow('audit_entry is append-only: TRUNCATE is not allowed');
    });

    it("gives the service's own role no right to change, remove or redefine anything", async () => {
      const writer = new Client({ ...integrationSettings().pg, user: config.PGUSER, password: config.PGPASSWORD, database: db.dbName });
      await writer.connect();
      try {
        await expect(writer.query('update audit_entry set actor = null where seq = $1', [row.seq])).rejects.toThrow(/permission denied/);
        await expect(writer.query('delete from audit_entry where seq = $1', [row.seq])).rejects.toThrow(/permission denied/);
        await expect(writer.query('alter table audit_entry disable trigger all')).rejects.toThrow(/must be owner/);
        await expect(writer.query('drop table audit_checkpoint')).rejects.toThrow(/must be owner/);
      } finally {
        await writer.end();
      }
    });

    it('still holds the entry as recorded, and the chain verifies', async () => {
      const [now] = (
        await sql.query<EntryRow>(
          'select seq::text as seq, event_id, event_type, subject, canonical, recorded_at from audit_entry where seq = $1',
          [row.seq],
        )
      ).rows;
      expect(now).toEqual(row);
      expect((await verify()).ok).toBe(true);
    });
  });

  describe('tampering by someone who bypasses the triggers (a superuser in replica mode)', () => {
    let target: EntryRow;
    const replica = async (statement: string, params: unknown[]) => {
      await sql.query('begin');
      await sql.query('set local session_replication_role = replica');
      await sql.query(statement, params);
      await sql.query('commit');
    };

    beforeAll(async () => {
      // Tampering is judged against a chain nobody else is writing to: other suites publish to the same topics
      // the whole time, so this suite's ingest stops here (nothing after this needs it).
      await ingest?.close();
      ingest = undefined;
      const service = app.get(CheckpointService);
      await service.tick();
      [target] = (
        await sql.query<EntryRow>(
          `select seq::text as seq, event_id, event_type, subject, canonical, recorded_at from audit_entry order by audit_entry.seq desc offset 3 limit 1`,
        )
      ).rows as [EntryRow];
    });

    it('reports a changed entry at its sequence number, over HTTP and from the command line', async () => {
      await replica(`update audit_entry set canonical = replace(canonical, '"source":"', '"source":"x') where seq = $1`, [target.seq]);
      try {
        expect((await verify()).firstBreak).toMatchObject({ seq: target.seq, reason: 'changed' });
        const out: string[] = [];
        const code = await runCli(
          ['verify', '--public-key', publicKeyFile],
          { ...process.env, ...configEnv(config) },
          { out: (t) => out.push(t), err: () => undefined },
        );
        expect(code).toBe(2);
        expect((JSON.parse(out.join('')) as DatabaseVerifyReport).firstBreak?.seq).toBe(target.seq);
      } finally {
        await replica('update audit_entry set canonical = $2 where seq = $1', [target.seq, target.canonical]);
      }
      expect((await verify()).ok).toBe(true);
    });

    it('reports a deleted entry at its sequence number', async () => {
      const [full] = (await sql.query('select * from audit_entry where seq = $1', [target.seq])).rows as [Record<string, unknown>];
      await replica('delete from audit_entry where seq = $1', [target.seq]);
      try {
        expect((await verify()).firstBreak).toMatchObject({ seq: target.seq, reason: 'missing' });
      } finally {
        const cols = Object.keys(full);
        await replica(
          `insert into audit_entry (${cols.join(', ')}) values (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
          cols.map((c) => full[c]),
        );
      }
      expect((await verify()).ok).toBe(true);
    });

    it('reports an inserted entry at the sequence number it claims', async () => {
      const [full] = (await sql.query('select * from audit_entry where seq = $1', [target.seq])).rows as [Record<string, unknown>];
      const forged = {
        ...full,
        recorded_at: new Date(new Date(full.recorded_at as Date).getTime()),
        canonical: String(full.canonical).replace('"source":"', '"source":"forged'),
      };
      const cols = Object.keys(forged);
      // Same seq, same month: the primary key (recorded_at, seq) would clash, so one millisecond later.
      const later = new Date((forged.recorded_at as Date).getTime() + 1);
      const doc = JSON.parse(String(forged.canonical)) as { recordedAt: string };
      doc.recordedAt = later.toISOString();
      const values = { ...forged, recorded_at: later, canonical: JSON.stringify(doc) };
      await replica(
        `insert into audit_entry (${cols.join(', ')}) values (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
        cols.map((c) => values[c as keyof typeof values]),
      );
      try {
        expect((await verify()).firstBreak).toMatchObject({ seq: target.seq });
      } finally {
        await replica('delete from audit_entry where seq = $1 and recorded_at = $2', [target.seq, later]);
      }
      expect((await verify()).ok).toBe(true);
    });

    it('reports entries removed from the end, and their checkpoint removed from the database, through the checkpoint log', async () => {
      // Access events from earlier tests' reads come back in through Kafka and may sign count-based checkpoints that
      // only the next round ships to the log: wait until the log stops growing, then ship, so the last checkpoint is
      // in the log.
      for (let before = '', now = 'start'; before !== now;) {
        before = now;
        await new Promise((r) => setTimeout(r, 750));
        now = (await sql.query<{ s: string }>('select max(seq)::text as s from audit_entry')).rows[0]!.s;
      }
      await app.get(CheckpointService).tick();
      const [last] = (await sql.query<{ seq: string }>('select max(seq)::text as seq from audit_checkpoint')).rows;
      const rows = (await sql.query('select * from audit_entry where seq > $1 - 2', [last!.seq])).rows as Record<string, unknown>[];
      const [cp] = (await sql.query('select * from audit_checkpoint where seq = $1', [last!.seq])).rows as [Record<string, unknown>];
      await replica('delete from audit_entry where seq > $1 - 2', [last!.seq]);
      await replica('delete from audit_checkpoint where seq = $1', [last!.seq]);
      try {
        const report = await verify();
        expect(report.ok).toBe(false);
        expect(report.breaks.map((b) => b.reason)).toEqual(expect.arrayContaining(['checkpoint-missing-in-database', 'tail-missing']));
      } finally {
        for (const r of rows) {
          const cols = Object.keys(r);
          await replica(
            `insert into audit_entry (${cols.join(', ')}) values (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
            cols.map((c) => r[c]),
          );
        }
        const cols = Object.keys(cp);
        await replica(
          `insert into audit_checkpoint (${cols.join(', ')}) values (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
          cols.map((c) => cp[c]),
        );
      }
      expect((await verify()).ok).toBe(true);
    });

    it('reports a disabled guard as a schema finding', async () => {
      await sql.query('alter table audit_event_id disable trigger audit_event_id_no_update_or_delete');
      try {
        expect((await verify()).schema).toEqual([expect.objectContaining({ what: 'trigger-disabled' })]);
      } finally {
        await sql.query('alter table audit_event_id enable trigger audit_event_id_no_update_or_delete');
      }
    });
  });

  describe('checkpoints outside the database', () => {
    it('writes every signed checkpoint to the checkpoint log', async () => {
      await app.get(CheckpointService).tick();
      const lines = readFileSync(config.AUDIT_CHECKPOINT_LOG_FILE, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { seq: string });
      const [db] = (await sql.query<{ n: string }>('select count(*)::text as n from audit_checkpoint')).rows;
      expect(lines.length).toBe(Number(db!.n));
      for (const l of lines) expect(keyring.check(l as never)).toBe('valid');
    });
  });

  describe('access control', () => {
    const endpoints = [
      '/v1/audit/events?type=referral.requested.v1',
      `/v1/audit/referrals/${randomUUID()}/timeline`,
      `/v1/audit/referrals/${randomUUID()}/export`,
      '/v1/audit/verify',
    ];

    it('refuses callers without a token (401 problem+json)', async () => {
      for (const path of endpoints) {
        const res = await fetch(`${baseUrl}${path}`);
        expect(res.status).toBe(401);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      }
    });

    it('refuses every role but auditor (403), the patient search included', async () => {
      for (const [role, org] of [
        ['gp', 'A81001'],
        ['clinician', 'RJ1'],
        ['ops', 'X26'],
        ['pals', 'RJ1'],
      ] as const) {
        for (const path of endpoints) expect((await get(path, [role, org])).status).toBe(403);
        expect((await request('POST', '/v1/audit/events/search', { nhsNumber: '9434765919' }, [role, org])).status).toBe(403);
      }
    });
  });

  describe('health', () => {
    it('is live, and ready while the database and Kafka answer', async () => {
      expect((await fetch(`${baseUrl}/health/live`)).status).toBe(200);
      const ready = await fetch(`${baseUrl}/health/ready`);
      expect(ready.status).toBe(200);
    });
  });
});

/** A fresh audit database, migrated, and an ORM on it as the owner (no service, no Kafka). */
async function migratedAuditDatabase(name: string): Promise<{ db: Awaited<ReturnType<typeof freshDatabase>>; orm: MikroORM }> {
  await ensureWriterRole();
  const db = await freshDatabase(name);
  const s = integrationSettings();
  const config = readAuditConfig({
    NODE_ENV: 'test',
    PGHOST: s.pg.host,
    PGPORT: String(s.pg.port),
    PGOWNER_USER: s.pg.user,
    PGOWNER_PASSWORD: s.pg.password,
    PGDATABASE: db.dbName,
  });
  await runMigrations(auditOwnerOrmOptions(config));
  return { db, orm: await MikroORM.init({ ...auditOwnerOrmOptions(config), pool: { min: 0, max: 2 } }) };
}

describe('retention, against PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let orm: MikroORM;
  let sql: Client;
  const signer = new CheckpointSigner(generateKeyPairSync('ed25519').privateKey);
  const keyring = CheckpointKeyring.fromPem(signer.publicKeyPem());
  let clock = new Date('2020-01-15T10:00:00.000Z');
  const auditLog = new AuditLog({
    chain: 'sonet-audit',
    checkpointEvery: 4,
    keyer: new PatientKeyer('retention-test-key-0123456789abcdefghij'),
    signer,
    clock: () => clock,
  });
  const append = (n: number) =>
    orm.em.fork().transactional((tem) =>
      auditLog.appendBatch(
        tem,
        Array.from({ length: n }, () => {
          const e = transferQueued(randomUUID(), clock.toISOString());
          return toAuditEntryDraft(e, received(e));
        }),
      ),
    );

  beforeAll(async () => {
    ({ db, orm } = await migratedAuditDatabase('audit_retention'));
    sql = await owner(db.dbName);
    await append(6); // January 2020
    clock = new Date('2020-02-10T10:00:00.000Z');
    await append(5); // February 2020
    clock = new Date();
    await append(3);
  });

  afterAll(async () => {
    await sql?.end();
    await orm?.close(true);
    await db?.drop();
  });

  it('drops whole months past the period, records it in the chain, and leaves a chain that still verifies from a signed anchor', async () => {
    const report = await applyRetention(orm, sql, auditLog, { months: 12 * 5, now: new Date('2025-02-20T00:00:00Z'), keyring });
    expect(report).toMatchObject({
      applied: true,
      partitions: ['audit_entry_p2020_01'],
      toSeq: '6',
      entries: '6',
      checkpoint: { seq: '6' },
    });
    const left = (await sql.query<{ seq: string }>('select min(seq)::text as seq from audit_entry')).rows[0]!;
    expect(left.seq).toBe('7');
    const [entry] = (
      await sql.query<{ canonical: string }>('select canonical from audit_entry where event_type = $1', [RETENTION_EVENT_TYPE])
    ).rows;
    expect(parseEntry(entry!.canonical).event.data).toMatchObject({
      toSeq: '6',
      fromSeq: '1',
      partitions: ['audit_entry_p2020_01'],
      retentionMonths: 60,
    });
    const verified = await verifyDatabase(sql, { chain: 'sonet-audit', keyring });
    expect(verified).toMatchObject({ ok: true, firstSeq: '7', anchor: { seq: '6' } });
  });

  it('reports the start as broken when a month is dropped without a retention run', async () => {
    await sql.query('drop table audit_entry_p2020_02');
    const verified = await verifyDatabase(sql, { chain: 'sonet-audit', keyring });
    expect(verified.firstBreak).toMatchObject({ seq: '1', reason: 'prefix-missing' });
  });
});

/** The config as environment variables, for the command line. */
function configEnv(c: AuditConfig): Record<string, string> {
  return {
    PGHOST: c.PGHOST,
    PGPORT: String(c.PGPORT),
    PGDATABASE: c.PGDATABASE,
    PGUSER: c.PGUSER,
    PGPASSWORD: c.PGPASSWORD,
    AUDIT_CHECKPOINT_KEY_FILE: c.AUDIT_CHECKPOINT_KEY_FILE,
    AUDIT_CHECKPOINT_LOG_FILE: c.AUDIT_CHECKPOINT_LOG_FILE,
    NODE_ENV: 'test',
  };
}

describe('reading the chain in sequence order across a power of ten, against PostgreSQL', () => {
  // Sequence numbers leave the database as text (a bigint does not fit a JS number). Sorted as text, "100" comes
  // before "99": every reading in chain order must sort the numbers. Entries 1..140 here, a referral's from 61.
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let orm: MikroORM;
  const signer = new CheckpointSigner(generateKeyPairSync('ed25519').privateKey);
  const keyring = CheckpointKeyring.fromPem(signer.publicKeyPem());
  const keyer = new PatientKeyer('order-test-key-0123456789abcdefghijklm');
  const auditLog = new AuditLog({ chain: 'sonet-audit', checkpointEvery: 7, keyer, signer });
  const referralId = randomUUID();
  const auditor = { subject: 'auditor-order-test', role: 'auditor' as const, organisation: 'X26' };
  const append = (events: EventEnvelope[]) =>
    orm.em.fork().transactional((tem) =>
      auditLog.appendBatch(
        tem,
        events.map((e) => toAuditEntryDraft(e, received(e))),
      ),
    );
  const others = (n: number) => Array.from({ length: n }, () => transferQueued(randomUUID(), '2026-03-01T09:00:00.000Z'));

  beforeAll(async () => {
    ({ db, orm } = await migratedAuditDatabase('audit_order'));
    await append(others(60));
    // Each batch shares one recording time: within it only the sequence number orders the entries.
    for (let b = 0; b < 8; b++)
      await append([...Array.from({ length: 5 }, () => transferQueued(referralId, '2026-03-01T10:00:00.000Z')), ...others(5)]);
  });

  afterAll(async () => {
    await orm?.close(true);
    await db?.drop();
  });

  const numeric = (seqs: readonly string[]) => [...seqs].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));

  it('pages through the entries in numeric order, none skipped', async () => {
    const handler = new QueryEventsHandler(orm.em, keyer);
    const seqs: string[] = [];
    for (let after: string | null = null; ;) {
      const page = await handler.execute({ referralId, limit: 7, ...(after ? { after } : {}) } as EventsFilter, auditor);
      seqs.push(...page.items.map((i) => i.seq));
      after = page.next;
      if (!after) break;
    }
    expect(seqs).toHaveLength(40);
    expect(seqs).toEqual(numeric(seqs));
    expect(seqs.some((q) => q.length === 2) && seqs.some((q) => q.length === 3)).toBe(true);
  });

  it('breaks ties in the timeline by sequence number', async () => {
    const { items } = await new ReferralTimelineHandler(orm.em).execute(referralId, auditor);
    expect(items.map((i) => i.seq)).toEqual(numeric(items.map((i) => i.seq)));
  });

  it('exports an evidence pack in chain order whose proof verifies, checkpoints on both sides of 100', async () => {
    const pack = await new ExportEvidenceHandler(orm.em, auditLog, signer).execute(referralId, auditor);
    expect(pack.entries.map((e) => e.seq)).toEqual(numeric(pack.entries.map((e) => e.seq)));
    expect(pack.proof.map((p) => p.toSeq)).toEqual(numeric(pack.proof.map((p) => p.toSeq)));
    expect(pack.proof.some((p) => p.toSeq.length === 2) && pack.proof.some((p) => p.toSeq.length === 3)).toBe(true);
    expect(verifyEvidence(pack, keyring)).toMatchObject({ ok: true, problems: [] });
  });

  it("imports a first version's log of 1,200 entries whole and in its order, 500 a page", async () => {
    const sql = await owner(db.dbName);
    try {
      // The migrations leave the first version's table (renamed audit_entry_v0) for `migrate` to import: fill it.
      const legacy = others(1200);
      await sql.query(
        `insert into audit_entry_v0 (event_id, event_type, source, subject, event_time, topic, partition, kafka_offset, headers, data)
         select (e->>'id')::uuid, e->>'type', e->>'source', (e->>'subject')::uuid, (e->>'time')::timestamptz, $2, 0, o, '{}'::jsonb, e->'data'
         from jsonb_array_elements($1::jsonb) with ordinality as t(e, o) order by o`,
        [JSON.stringify(legacy), Topics.recordsEvents],
      );
      const [before] = (await sql.query<{ head: string }>('select max(seq)::text as head from audit_entry')).rows;
      expect(await importLegacyEntries(orm, auditLog)).toBe(1200);
      const imported = await sql.query<{ event_id: string }>('select event_id from audit_entry where seq > $1 order by audit_entry.seq', [
        before!.head,
      ]);
      expect(imported.rows.map((r) => r.event_id)).toEqual(legacy.map((e) => e.id));
    } finally {
      await sql.end();
    }
  });
});
