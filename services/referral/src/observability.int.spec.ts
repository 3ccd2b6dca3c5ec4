import { spanExporter as exporter } from '../test/in-memory-tracing';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { MikroORM } from '@mikro-orm/postgresql';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { stopTracing } from '@sonet/observability';
import { createServiceApp, runMigrations } from '@sonet/service-kit';
import {
  eventually,
  freshDatabase,
  integrationSettings,
  quietTemporalRuntime,
  secondOpinionRequest,
  testTokens,
  uniqueSuffix,
} from '@sonet/testing';
import { ReferralAppModule } from './app.module';
import { readReferralConfig } from './config';
import { seedDirectory } from './directory/seed';
import { referralOrmOptions } from './orm';

jest.setTimeout(120_000);

/**
 * Temporal in the trace, in process with an in-memory exporter: the referral app (HTTP, Temporal client, worker on
 * its own task queue with the workflow bundled at start, outbox relay) records a request; its spans form one trace
 * from the HTTP server span through the workflow start, the workflow run, each activity, to the relay's publish.
 * (The consumers in the other services continue it from the published traceparent: test/e2e/whole-trace.e2e.spec.ts.)
 */
describe('observability of the referral service: the trace of POST /v1/referrals (Temporal included), its trace id, /metrics', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let app: NestFastifyApplication;
  let baseUrl: string;
  let config: ReturnType<typeof readReferralConfig>;
  let tokens: Awaited<ReturnType<typeof testTokens>>;

  beforeAll(async () => {
    quietTemporalRuntime();
    tokens = await testTokens();
    db = await freshDatabase('referral_trace');
    const { pg, temporalAddress, kafkaBrokers } = integrationSettings();
    config = readReferralConfig({
      ...tokens.env,
      PGHOST: pg.host,
      PGPORT: String(pg.port),
      PGUSER: pg.user,
      PGPASSWORD: pg.password,
      PGDATABASE: db.dbName,
      KAFKA_BROKERS: kafkaBrokers.join(','),
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_TASK_QUEUE: `test-trace-${uniqueSuffix()}`,
      KAFKA_CONSUMER_GROUP: `test-trace-${uniqueSuffix()}`,
      TEMPORAL_PAYLOAD_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'warn',
    });
    await runMigrations(referralOrmOptions(config));
    const orm = await MikroORM.init(referralOrmOptions(config));
    await seedDirectory(orm.em.fork());
    await orm.close(true);
    app = await createServiceApp({
      module: ReferralAppModule.forRoot(config),
      host: '127.0.0.1',
      port: 0,
      openApi: { title: 'referral', description: 'trace test', version: '1' },
    });
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await stopTracing();
    await db?.drop();
  });

  const spans = () => exporter.getFinishedSpans();
  const parentOf = (s: ReadableSpan) => spans().find((p) => p.spanContext().spanId === s.parentSpanContext?.spanId);
  const ancestry = (s: ReadableSpan): string[] => {
    const names: string[] = [];
    for (let p = parentOf(s); p; p = parentOf(p)) names.unshift(p.name);
    return names;
  };

  const asGp = async () => ({ 'content-type': 'application/json', ...(await tokens.bearer('gp', 'A81001')) });
  const request = async (): Promise<string> => {
    const res = await fetch(`${baseUrl}/v1/referrals`, {
      method: 'POST',
      headers: await asGp(),
      body: JSON.stringify(secondOpinionRequest({ name: 'Trace Patient', email: `trace-${uniqueSuffix()}@patients.example` })),
    });
    expect(res.status).toBe(202);
    return ((await res.json()) as { id: string }).id;
  };
  /** The GP declines: the workflow ends, so its run span (open for the whole process) ends and is exported. */
  const decline = async (id: string) => {
    const res = await eventually(async () => {
      const r = await fetch(`${baseUrl}/v1/referrals/${id}/gp-decision`, {
        method: 'POST',
        headers: await asGp(),
        body: JSON.stringify({ decision: 'decline', reason: 'Not needed after all.' }),
      });
      return r.status === 200 ? r : undefined;
    }, 30_000);
    expect(res.status).toBe(200);
  };
  /** The names from the trace's root down to `span`. */
  const chainTo = (span: ReadableSpan) => [...ancestry(span), span.name];
  const inOrder = (chain: string[], order: (string | RegExp)[]) =>
    order.map((o) => chain.findIndex((n) => (typeof o === 'string' ? n === o : o.test(n))));

  it('holds HTTP server span → workflow start → workflow run → activity → outbox relay publish, in one trace', async () => {
    const id = await request();
    const published = await eventually(async () => spans().find((s) => s.name === 'referral.events.v1 publish'), 60_000);
    await decline(id);
    await eventually(async () => spans().find((s) => s.name === 'RunWorkflow:secondOpinionWorkflow'), 60_000);
    const chain = chainTo(published);
    const positions = inOrder(chain, [
      /^POST/,
      'StartWorkflow:secondOpinionWorkflow',
      'RunWorkflow:secondOpinionWorkflow',
      /^StartActivity:/,
      /^RunActivity:/,
      'referral.events.v1 publish',
    ]);
    expect({ chain, positions }).toEqual({ chain, positions: [0, 1, 2, 3, 4, 5] });
    expect(
      new Set(
        chain.map(
          (n) =>
            spans()
              .find((s) => s.name === n)
              ?.spanContext().traceId,
        ),
      ).size,
    ).toBe(1);
  });

  it('holds, for a decision, HTTP server span → workflow update → its handler → activity → publish, in the trace of the decision', async () => {
    const id = await request();
    await eventually(async () =>
      spans().find((s) => (s.name === 'RunActivity:recordRequested' && s.attributes['temporal.workflow.id'] === undefined ? s : undefined)),
    );
    await decline(id);
    const published = await eventually(
      async () => spans().find((s) => s.name === 'referral.events.v1 publish' && chainTo(s).includes('HandleUpdate:decision')),
      60_000,
    );
    const positions = inOrder(chainTo(published), [
      /^POST/,
      'StartWorkflowUpdate:decision',
      'HandleUpdate:decision',
      /^StartActivity:/,
      /^RunActivity:/,
      'referral.events.v1 publish',
    ]);
    expect({ chain: chainTo(published), positions }).toEqual({ chain: chainTo(published), positions: [0, 1, 2, 3, 4, 5] });
  });

  it('GET /v1/referrals/:id gives ops the trace id stored at request time (nobody else)', async () => {
    const id = await request();
    const read = async (role: 'ops' | 'gp', org: string) =>
      (await (await fetch(`${baseUrl}/v1/referrals/${id}`, { headers: await tokens.bearer(role, org) })).json()) as { traceId?: string };
    const { traceId } = await read('ops', 'X26');
    const inTrace = spans().filter((s) => s.spanContext().traceId === traceId);
    expect(inTrace.map((s) => s.name)).toEqual(expect.arrayContaining(['POST', 'StartWorkflow:secondOpinionWorkflow']));
    expect(await read('gp', 'A81001')).not.toHaveProperty('traceId');
  });

  it('GET /metrics answers the HTTP, outbox and referral metrics in the Prometheus format', async () => {
    await request();
    const names = [
      'http_server_request_duration_bucket{',
      'messaging_outbox_backlog{',
      'messaging_outbox_oldest_age{',
      'sonet_referrals{',
      'sonet_referral_steps_overdue{',
      // Recorded when the workflow's first step moves the referral out of `requested`.
      'sonet_referral_state_duration_bucket{',
    ];
    const text = await eventually(async () => {
      const res = await fetch(`${baseUrl}/metrics`);
      expect(res.status).toBe(200);
      const body = await res.text();
      return names.every((n) => body.includes(n)) ? body : undefined;
    }, 30_000);
    expect(text).toMatch(/http_server_request_duration_count\{[^}]*http_route="\/v1\/referrals"/);
    expect(text).toMatch(/sonet_referral_state_duration_count\{referral_state="requested"/);
  });

  describe('the operations API (role ops)', () => {
    const call = async (method: string, path: string, body?: unknown, as: 'ops' | 'gp' = 'ops') => {
      const headers = {
        ...(await tokens.bearer(as, as === 'ops' ? 'X26' : 'A81001')),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      };
      const res = await fetch(`${baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as Record<string, unknown> };
    };

    it('refuses other roles, and bad input as problem+json', async () => {
      expect((await call('GET', '/v1/ops/dead-letters?topic=referral.events.v1', undefined, 'gp')).status).toBe(403);
      for (const [method, path, body] of [
        ['GET', '/v1/ops/dead-letters', undefined],
        ['GET', '/v1/ops/dead-letters?topic=not.a.topic', undefined],
        ['POST', '/v1/ops/dead-letters/nonsense/replay', undefined],
        ['POST', '/v1/ops/dead-letters/replay', { topic: 'referral.events.v1' }],
        ['GET', '/v1/ops/stuck?all=1', undefined],
      ] as const) {
        const res = await call(method, path, body);
        expect({ path, status: res.status, type: res.type }).toEqual({
          path,
          status: 400,
          type: expect.stringContaining('application/problem+json'),
        });
      }
      expect((await call('POST', '/v1/ops/dead-letters/referral.events.v1.dlq:0:999999999/replay')).status).toBe(404);
    });

    it("lists a topic's dead letters without bodies", async () => {
      const res = await call('GET', '/v1/ops/dead-letters?topic=referral.events.v1');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ topic: 'referral.events.v1.dlq', items: expect.any(Array) });
    });

    it('lists an overdue referral with links to its workflow in Temporal and its trace', async () => {
      const id = await request();
      const orm = await MikroORM.init(referralOrmOptions(config));
      try {
        await eventually(async () => {
          const [r] = await orm.em.fork().execute<{ state: string }[]>('select state from referral where id = ?', [id]);
          return r?.state === 'gp-review' ? true : undefined;
        });
        await orm.em.fork().execute(`update referral set due_at = now() - interval '2 days', due_step = 'gp-review' where id = ?`, [id]);
      } finally {
        await orm.close(true);
      }
      const res = await call('GET', '/v1/ops/stuck');
      expect(res.status).toBe(200);
      const mine = (res.body.referrals as { referralId: string; reason: string; links: { temporal: string; trace: string } }[]).find(
        (r) => r.referralId === id,
      );
      expect(mine).toMatchObject({
        reason: 'overdue-step',
        links: {
          temporal: `http://127.0.0.1:8233/namespaces/default/workflows/${encodeURIComponent(`second-opinion/${id}`)}`,
          trace: expect.stringMatching(/^http:\/\/127\.0\.0\.1:9411\/zipkin\/traces\/[0-9a-f]{32}$/),
        },
      });
      expect(res.body.workflows).toEqual(expect.any(Array));
    });
  });
});
