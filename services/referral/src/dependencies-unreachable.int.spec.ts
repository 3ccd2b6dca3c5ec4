import { randomBytes } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { Client, Connection } from '@temporalio/client';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createServiceApp, runMigrations } from '@sonet/service-kit';
import {
  freshDatabase,
  integrationSettings,
  randomTestNhsNumber,
  teardown,
  teardownTimeout,
  testTokens,
  Toxiproxy,
  uniqueSuffix,
} from '@sonet/testing';
import { ReferralAppModule } from './app.module';
import { readReferralConfig } from './config';
import { seedDirectory } from './directory/seed';
import { referralOrmOptions } from './orm';
import { MikroORM } from '@mikro-orm/postgresql';

/**
 * Issue 13, faults handled without hands: with PostgreSQL or Temporal unreachable (their Toxiproxy proxy disabled:
 * connections closed, new ones refused), requests fail within 5 s with 503 problem+json and Retry-After instead of
 * 500 or a hang; a request answered as failed leaves nothing behind; once the server is back the service answers
 * again without a restart. The app runs on its own database, task queue (no worker) and consumer group.
 */
describe('the referral API when PostgreSQL or Temporal cannot be reached', () => {
  const s = integrationSettings();
  const suffix = uniqueSuffix();
  const toxiproxy = new Toxiproxy();
  const proxies = { pg: `referral-pg-${suffix}`, temporal: `referral-temporal-${suffix}` };
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let app: NestFastifyApplication;
  let baseUrl: string;
  let tokens: Awaited<ReturnType<typeof testTokens>>;
  let direct: PgClient;
  let temporal: Client;
  const started: string[] = [];

  const post = async (path: string, body: unknown) => {
    const at = Date.now();
    const res = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { ...(await tokens.bearer('gp', 'A81001')), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { res, ms: Date.now() - at, body: (await res.json()) as Record<string, unknown> };
  };
  const request = () => ({
    patient: { nhsNumber: randomTestNhsNumber(), name: 'Ann Example', email: 'ann@example.org', preferredChannel: 'email' },
    originalTeamId: 'RJ122-CARD',
    specialty: 'cardiology',
    urgency: 'routine',
    reason: 'Would like another view on the treatment plan',
    explainedByOriginalTeam: true,
    recordsSharingConsent: true,
  });
  const count = async (table: 'referral' | 'patient') => Number((await direct.query(`select count(*) from ${table}`)).rows[0].count);
  const expectUnavailable = (r: Awaited<ReturnType<typeof post>>) => {
    expect(r.res.status).toBe(503);
    expect(r.res.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(r.res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(r.body).toMatchObject({ type: 'urn:sonet:problem:unavailable', status: 503 });
    expect(r.ms).toBeLessThan(5_000);
  };

  beforeAll(async () => {
    tokens = await testTokens();
    db = await freshDatabase('referral_faults');
    const pgProxy = await toxiproxy.proxy(proxies.pg, `${s.pg.host}:${s.pg.port}`);
    const temporalProxy = await toxiproxy.proxy(proxies.temporal, s.temporalAddress);
    const config = readReferralConfig({
      ...tokens.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'fatal',
      PGHOST: '127.0.0.1',
      PGPORT: pgProxy.listen.split(':')[1],
      PGUSER: s.pg.user,
      PGPASSWORD: s.pg.password,
      PGDATABASE: db.dbName,
      KAFKA_BROKERS: s.kafkaBrokers.join(','),
      KAFKA_CONSUMER_GROUP: `referral.faults-${suffix}`,
      TEMPORAL_ADDRESS: temporalProxy.listen,
      TEMPORAL_TASK_QUEUE: `faults-${suffix}`,
      TEMPORAL_PAYLOAD_KEY: randomBytes(32).toString('base64'),
      RUN_WORKER: 'false',
    });
    await runMigrations(referralOrmOptions(config));
    const orm = await MikroORM.init(referralOrmOptions(config));
    await seedDirectory(orm.em.fork());
    await orm.close(true);
    app = await createServiceApp({
      module: ReferralAppModule.forRoot(config),
      host: '127.0.0.1',
      port: 0,
      openApi: { title: 'Referral API (test)', description: 'test', version: '1' },
    });
    baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    direct = new PgClient({ ...s.pg, database: db.dbName });
    await direct.connect();
    temporal = new Client({ connection: await Connection.connect({ address: s.temporalAddress }) });
  });

  afterEach(async () => {
    await toxiproxy.setEnabled(proxies.pg, true);
    await toxiproxy.setEnabled(proxies.temporal, true);
  });

  afterAll(async () => {
    // Bounded: a client or app still reconnecting after the cuts must not hold the suite past its hook.
    await teardown([
      [
        'workflows',
        () => Promise.allSettled(started.map((id) => temporal?.workflow.getHandle(`second-opinion/${id}`).terminate('test over'))),
      ],
      ['Temporal client', () => temporal?.connection.close()],
      ['referral app', () => app?.close()],
      ['direct PostgreSQL client', () => direct?.end()],
      ['PostgreSQL proxy', () => toxiproxy.remove(proxies.pg)],
      ['Temporal proxy', () => toxiproxy.remove(proxies.temporal)],
      ['database', () => db?.drop()],
    ]);
  }, teardownTimeout(7));

  it('answers a request 202 while both are up', async () => {
    const r = await post('/v1/referrals', request());
    expect(r.res.status).toBe(202);
    started.push(r.body['id'] as string);
  });

  describe('with PostgreSQL unreachable', () => {
    it('answers POST /v1/referrals 503 problem+json with Retry-After within 5 s (not 500, not a hang)', async () => {
      await toxiproxy.setEnabled(proxies.pg, false);
      expectUnavailable(await post('/v1/referrals', request()));
    });

    it('answers a read 503 with Retry-After too', async () => {
      await toxiproxy.setEnabled(proxies.pg, false);
      const at = Date.now();
      const res = await fetch(`${baseUrl}/v1/referrals`, { headers: await tokens.bearer('gp', 'A81001') });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).not.toBeNull();
      expect(Date.now() - at).toBeLessThan(5_000);
    });
  });

  describe('with Temporal unreachable', () => {
    it('answers POST /v1/referrals 503 with Retry-After within 5 s, and the failed request leaves nothing behind', async () => {
      const before = { referrals: await count('referral'), patients: await count('patient') };
      await toxiproxy.setEnabled(proxies.temporal, false);
      const r = await post('/v1/referrals', request());
      expectUnavailable(r);
      expect(r.body['detail']).toContain('nothing was recorded');
      expect({ referrals: await count('referral'), patients: await count('patient') }).toEqual(before);
    });

    it('answers a decision 503 with Retry-After within 5 s, and nothing is decided', async () => {
      const created = await post('/v1/referrals', request());
      expect(created.res.status).toBe(202);
      const id = created.body['id'] as string;
      started.push(id);
      await toxiproxy.setEnabled(proxies.temporal, false);
      expectUnavailable(await post(`/v1/referrals/${id}/gp-decision`, { decision: 'refer', targetTeamId: 'RTH01-CARD' }));
      expect((await direct.query(`select state from referral where id = $1`, [id])).rows[0].state).toBe('requested');
    });
  });

  it('answers again as soon as both are back, without a restart', async () => {
    await toxiproxy.setEnabled(proxies.pg, false);
    await toxiproxy.setEnabled(proxies.temporal, false);
    expectUnavailable(await post('/v1/referrals', request()));
    await toxiproxy.setEnabled(proxies.pg, true);
    await toxiproxy.setEnabled(proxies.temporal, true);
    const r = await post('/v1/referrals', request());
    expect(r.res.status).toBe(202);
    started.push(r.body['id'] as string);
  });
});
