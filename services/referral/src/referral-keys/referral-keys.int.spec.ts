import { randomBytes, randomUUID } from 'node:crypto';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { MikroORM } from '@mikro-orm/postgresql';
import { ServiceError, type Client } from '@temporalio/client';
import { mintDevToken, type Role } from '@sonet/auth';
import { configureHttpApp, runMigrations, TEMPORAL_CLIENT } from '@sonet/service-kit';
import { freshDatabase, integrationSettings, networkIssuerDir, randomTestNhsNumber, testTokens } from '@sonet/testing';
import { ReferralAppModule } from '../app.module';
import { readReferralConfig } from '../config';
import { ReferralKeyStore } from './referral-key-store';
import { seedDirectory } from '../directory/seed';
import { referralOrmOptions } from '../orm';

jest.setTimeout(120_000);

/** Temporal as the HTTP layer sees it: starts and decision Updates that fail while `down`, recorded either way. */
const temporal = {
  down: false,
  starts: [] as string[],
  updateIds: [] as (string | undefined)[],
};
const fakeClient = {
  connection: { close: async () => undefined },
  withDeadline: <T>(_at: number, fn: () => Promise<T>) => fn(),
  workflow: {
    start: async (_name: string, o: { workflowId: string }) => {
      temporal.starts.push(o.workflowId);
      if (temporal.down) throw new ServiceError('temporal is down');
      return {};
    },
    getHandle: (workflowId: string) => ({
      executeUpdate: async (_def: unknown, o: { updateId?: string }) => {
        temporal.updateIds.push(o.updateId);
        if (temporal.down) throw new ServiceError('temporal is down');
        return {
          referralId: workflowId.split('/')[1],
          state: 'declined',
          revision: 1,
          allowedActions: [],
          responsibleTeam: 'original',
          timeline: [],
        };
      },
    }),
  },
} as unknown as Client;

/**
 * The referral service's key endpoint and erasure (ADR 14), and Idempotency-Key after a 5xx: the referral app from
 * this source, in-process, on its own database (RUN_WORKER=false; Temporal replaced by a switchable fake).
 */
describe('referral data keys and erasure (HTTP, PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let app: NestFastifyApplication;
  let orm: MikroORM;

  const token = (role: Role, subject: string, organisation = 'X26') => mintDevToken(networkIssuerDir(), { role, organisation, subject });
  const call = async (method: 'GET' | 'POST', url: string, as?: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await app
      .getHttpAdapter()
      .getInstance()
      .inject({
        method,
        url,
        headers: {
          ...(as ? { authorization: `Bearer ${as}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
    return { status: res.statusCode, headers: res.headers, body: res.body ? (JSON.parse(res.body) as Record<string, unknown>) : {} };
  };
  const gp = () => token('gp', `gp-${randomUUID()}`, 'A81001');
  const request = (nhsNumber = randomTestNhsNumber()) => ({
    patient: { nhsNumber, name: 'Key Test', email: 'key.test@example.org', preferredChannel: 'email' },
    originalTeamId: 'RJ122-CARD',
    specialty: 'cardiology',
    reason: 'second opinion',
    urgency: 'routine',
    explainedByOriginalTeam: false,
    recordsSharingConsent: true,
  });
  const newReferral = async (): Promise<string> => {
    const res = await call('POST', '/v1/referrals', await gp(), request());
    expect(res.status).toBe(202);
    return res.body.id as string;
  };
  const outbox = (referralId: string, type: string) =>
    orm.em.fork().execute<{ value: unknown }[]>(`select value from outbox where key = ? and event_type = ?`, [referralId, type]);
  const close = (referralId: string) =>
    orm.em.fork().execute(`update referral set state = 'closed', closed_at = now() where id = ?`, [referralId]);

  beforeAll(async () => {
    const tokens = await testTokens();
    const { pg, kafkaBrokers } = integrationSettings();
    db = await freshDatabase('referral_keys');
    const config = readReferralConfig({
      ...tokens.env,
      PGHOST: pg.host,
      PGPORT: String(pg.port),
      PGUSER: pg.user,
      PGPASSWORD: pg.password,
      PGDATABASE: db.dbName,
      KAFKA_BROKERS: kafkaBrokers.join(','),
      LOG_LEVEL: 'silent',
      RUN_WORKER: 'false',
      START_RECONCILE_AFTER_MS: String(3_600_000),
      TEMPORAL_PAYLOAD_KEY: randomBytes(32).toString('base64'),
      REFERRAL_KEK: randomBytes(32).toString('base64'),
    });
    await runMigrations(referralOrmOptions(config));
    const moduleRef = await Test.createTestingModule({ imports: [ReferralAppModule.forRoot(config)] })
      .overrideProvider(TEMPORAL_CLIENT)
      .useValue(fakeClient)
      .compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    configureHttpApp(app);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    orm = app.get(MikroORM);
    await seedDirectory(orm.em.fork());
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });
  beforeEach(() => {
    temporal.down = false;
  });

  describe('reading a referral’s key', () => {
    it('answers the key to notification, audit and records-transfer (service tokens), never cached', async () => {
      const id = await newReferral();
      const answers = await Promise.all(
        ['notification', 'audit', 'records-transfer'].map(async (s) =>
          call('GET', `/internal/v1/referral-keys/${id}`, await token('system', s)),
        ),
      );
      for (const a of answers) {
        expect(a.status).toBe(200);
        expect(a.headers['cache-control']).toBe('no-store');
        expect(a.body).toMatchObject({ referralId: id, alg: 'A256GCM' });
        expect(Buffer.from(a.body.key as string, 'base64url')).toHaveLength(32);
      }
      expect(new Set(answers.map((a) => a.body.key)).size).toBe(1);
    });

    it('keeps the first key of a referral: creating it again (a retried request) answers the stored one', async () => {
      const keys = app.get(ReferralKeyStore);
      const referralId = randomUUID();
      const first = await orm.em.fork().transactional((em) => keys.create(em, referralId));
      const again = await orm.em.fork().transactional((em) => keys.create(em, referralId));
      expect(again.kid).toBe(first.kid);
      expect(again.key.equals(first.key)).toBe(true);
      const stored = await keys.keyFor(orm.em.fork(), referralId);
      expect(stored).toEqual(first);
    });

    it('records every read as an access event naming the service', async () => {
      const id = await newReferral();
      await call('GET', `/internal/v1/referral-keys/${id}`, await token('system', 'notification'));
      const events = (await outbox(id, 'access.recorded.v1')).map((r) => (typeof r.value === 'string' ? JSON.parse(r.value) : r.value));
      expect(events).toEqual([
        expect.objectContaining({
          referralId: id,
          actor: { subject: 'notification', role: 'system', organisation: 'X26' },
          resource: { service: 'referral', kind: 'data-key', action: 'read' },
        }),
      ]);
    });

    it('never answers a wrapped key moved to another referral’s row (it is bound to its referral and id)', async () => {
      const [a, b] = [await newReferral(), await newReferral()];
      await orm.em
        .fork()
        .execute(
          `update referral_data_key set wrapped = (select wrapped from referral_data_key where referral_id = ?) where referral_id = ?`,
          [a, b],
        );
      const res = await call('GET', `/internal/v1/referral-keys/${b}`, await token('system', 'audit'));
      expect(res.status).toBe(500);
      expect(JSON.stringify(res.body)).not.toMatch(/"key"/);
    });

    it('refuses any other service (403), any other role (403), no token (401), a bad id (400), an unknown referral (404)', async () => {
      const id = await newReferral();
      expect((await call('GET', `/internal/v1/referral-keys/${id}`, await token('system', 'some-other-service'))).status).toBe(403);
      for (const role of ['gp', 'ops', 'auditor', 'clinician'] as const) {
        expect((await call('GET', `/internal/v1/referral-keys/${id}`, await token(role, 'notification'))).status).toBe(403);
      }
      expect((await call('GET', `/internal/v1/referral-keys/${id}`)).status).toBe(401);
      const system = await token('system', 'audit');
      expect((await call('GET', `/internal/v1/referral-keys/not-a-uuid`, system)).status).toBe(400);
      const unknown = await call('GET', `/internal/v1/referral-keys/${randomUUID()}`, system);
      expect(unknown.status).toBe(404);
      expect(unknown.headers['content-type']).toMatch(/^application\/problem\+json/);
    });
  });

  describe('erasure: destroying a referral’s key', () => {
    it('is refused while the referral is open (409), and to anyone but operations (403)', async () => {
      const id = await newReferral();
      const body = { basis: 'erasure-request', reference: 'IG-1' };
      expect((await call('POST', `/internal/v1/referral-keys/${id}/destroy`, await token('ops', 'ops-1'), body)).status).toBe(409);
      await close(id);
      expect((await call('POST', `/internal/v1/referral-keys/${id}/destroy`, await token('system', 'audit'), body)).status).toBe(403);
    });

    it('destroys it for good: the key answers 410 to every reader, and an event says so', async () => {
      const id = await newReferral();
      await close(id);
      const ops = await token('ops', 'ops-1');
      const done = await call('POST', `/internal/v1/referral-keys/${id}/destroy`, ops, { basis: 'erasure-request', reference: 'IG-2' });
      expect(done.status).toBe(200);
      expect(done.body).toMatchObject({ referralId: id });
      const gone = await call('GET', `/internal/v1/referral-keys/${id}`, await token('system', 'notification'));
      expect(gone.status).toBe(410);
      expect(gone.headers['content-type']).toMatch(/^application\/problem\+json/);
      const wrapped = await orm.em
        .fork()
        .execute<{ wrapped: Buffer | null }[]>(`select wrapped from referral_data_key where referral_id = ?`, [id]);
      expect(wrapped).toEqual([{ wrapped: null }]);
      expect(await outbox(id, 'referral.data-key-destroyed.v1')).toHaveLength(1);
      expect((await call('POST', `/internal/v1/referral-keys/${id}/destroy`, ops, { basis: 'erasure-request' })).status).toBe(410);
    });

    it('refuses a body that is not a basis and a reference without personal data (400)', async () => {
      const id = await newReferral();
      const ops = await token('ops', 'ops-1');
      for (const body of [
        {},
        { basis: 'because' },
        { basis: 'other', reference: 'Alex Example 9434765919' },
        { basis: 'other', extra: 1 },
      ]) {
        expect((await call('POST', `/internal/v1/referral-keys/${id}/destroy`, ops, body)).status).toBe(400);
      }
    });
  });

  describe('Idempotency-Key after a 5xx', () => {
    it('POST /v1/referrals that answered 503 left nothing; its retry records the referral once, and is replayed after', async () => {
      const as = await gp();
      const key = randomUUID();
      const nhs = randomTestNhsNumber();
      temporal.down = true;
      const first = await call('POST', '/v1/referrals', as, request(nhs), { 'idempotency-key': key });
      expect(first.status).toBe(503);
      expect(first.headers['retry-after']).toBeDefined();
      const countFor = async () =>
        (await orm.em.fork().execute(`select r.id from referral r join patient p on p.id = r.patient_id where p.nhs_number = ?`, [nhs]))
          .length;
      expect(await countFor()).toBe(0);
      temporal.down = false;
      const retry = await call('POST', '/v1/referrals', as, request(nhs), { 'idempotency-key': key });
      expect(retry.status).toBe(202);
      const again = await call('POST', '/v1/referrals', as, request(nhs), { 'idempotency-key': key });
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body.id).toBe(retry.body.id);
      expect(await countFor()).toBe(1);
      expect(temporal.starts.filter((w) => w.endsWith(retry.body.id as string)).length).toBe(2);
    });

    it('a retried decision after a 503 sends the same Temporal Update id, so a decision that did land is taken once', async () => {
      const as = await gp();
      const created = await call('POST', '/v1/referrals', as, request());
      const key = randomUUID();
      const decline = { decision: 'decline', reason: 'no new information expected' };
      temporal.down = true;
      temporal.updateIds.length = 0;
      const first = await call('POST', `/v1/referrals/${created.body.id as string}/gp-decision`, as, decline, { 'idempotency-key': key });
      expect(first.status).toBe(503);
      temporal.down = false;
      const retry = await call('POST', `/v1/referrals/${created.body.id as string}/gp-decision`, as, decline, { 'idempotency-key': key });
      expect(retry.status).toBe(200);
      expect(temporal.updateIds).toHaveLength(2);
      expect(temporal.updateIds[0]).toBeDefined();
      expect(temporal.updateIds[1]).toBe(temporal.updateIds[0]);
    });
  });
});
