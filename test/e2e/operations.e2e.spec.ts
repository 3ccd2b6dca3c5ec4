import { eventually, secondOpinionRequest, testTokens, uniqueSuffix } from '@sonet/testing';

/**
 * Operations against the running network (`npm start`: the services export spans to Zipkin): a referral's whole
 * trace in the trace viewer, from the GP's request through the workflow and every Kafka hop to the audit insert;
 * and every service's /metrics after the walk.
 */
const api = {
  referral: process.env.REFERRAL_API_URL ?? 'http://127.0.0.1:8081',
  'records-transfer': process.env.RECORDS_TRANSFER_API_URL ?? 'http://127.0.0.1:8082',
  notification: process.env.NOTIFICATION_API_URL ?? 'http://127.0.0.1:8083',
  audit: process.env.AUDIT_API_URL ?? 'http://127.0.0.1:8084',
};
const zipkin = process.env.ZIPKIN_URL ?? 'http://127.0.0.1:9411';

interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: string;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

let tokens: Awaited<ReturnType<typeof testTokens>>;
let referralId: string;
let traceId: string;

beforeAll(async () => {
  tokens = await testTokens();
  const res = await fetch(`${api.referral}/v1/referrals`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await tokens.bearer('gp', 'A81001')) },
    body: JSON.stringify(secondOpinionRequest({ name: 'Ops Walk', email: `ops-${uniqueSuffix()}@patients.example` })),
  });
  expect(res.status).toBe(202);
  referralId = ((await res.json()) as { id: string }).id;
  const view = (await (
    await fetch(`${api.referral}/v1/referrals/${referralId}`, { headers: await tokens.bearer('ops', 'X26') })
  ).json()) as {
    traceId: string;
  };
  traceId = view.traceId;
  expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  // The workflow's run span is exported when the run ends: end it (the request's steps have been recorded by then).
  await eventually(async () => {
    const r = await fetch(`${api.referral}/v1/referrals/${referralId}`, { headers: await tokens.bearer('gp', 'A81001') });
    return ((await r.json()) as { state: string }).state === 'gp-review' ? true : undefined;
  });
  const withdrawn = await fetch(`${api.referral}/v1/referrals/${referralId}/withdraw`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await tokens.bearer('gp', 'A81001')) },
    body: JSON.stringify({ reason: 'operations walk done' }),
  });
  expect(withdrawn.status).toBe(200);
});

/** The names from the trace's root down to `span` (Zipkin lower-cases names). */
const ancestry = (spans: ZipkinSpan[], span: ZipkinSpan): string[] => {
  const byId = new Map(spans.map((s) => [s.id, s]));
  const names = [span.name];
  for (let p = span.parentId ? byId.get(span.parentId) : undefined; p; p = p.parentId ? byId.get(p.parentId) : undefined)
    names.unshift(p.name);
  return names;
};

const traceOf = async (id: string): Promise<ZipkinSpan[]> => {
  const res = await fetch(`${zipkin}/api/v2/trace/${id}`);
  return res.status === 200 ? ((await res.json()) as ZipkinSpan[]) : [];
};
const isInsert = (s: ZipkinSpan) => /^\s*insert/i.test(s.tags?.['db.query.text'] ?? s.tags?.['db.statement'] ?? '');
const serviceOf = (s: ZipkinSpan) => s.localEndpoint?.serviceName;

describe("a referral's whole trace in the trace viewer", () => {
  it('runs HTTP → workflow start → run → activity → publish → the consumers of notification and audit → the audit insert', async () => {
    // Each service exports its spans in its own batches: wait until some audit consumer span's ancestry reaches back
    // through every step, and on a timeout show the chains seen.
    const order = [/^post/, /^startworkflow:/, /^runworkflow:/, /^startactivity:/, /^runactivity:/, /publish$/, /process( batch)?$/];
    const positionsIn = (chain: string[]) => order.map((o) => chain.findIndex((n) => o.test(n)));
    const isAuditConsumer = (s: ZipkinSpan) => serviceOf(s) === 'audit' && / process( batch)?$/.test(s.name);
    let seen: string[][] = [];
    const found = await eventually(
      async () => {
        const all = await traceOf(traceId);
        seen = all.filter(isAuditConsumer).map((s) => ancestry(all, s));
        const complete = all.find((s) => isAuditConsumer(s) && positionsIn(ancestry(all, s)).every((p) => p >= 0));
        const notified = all.some((s) => serviceOf(s) === 'notification' && / process( batch)?$/.test(s.name));
        return complete && notified ? { spans: all, auditConsumer: complete } : undefined;
      },
      90_000,
      1_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; audit consumer chains seen: ${JSON.stringify(seen)}`);
    });
    const { spans, auditConsumer } = found;
    // Audit consumes in batches: the batch span continues the first event's trace; the others' traces get a span
    // pointing at it (messaging.batch.*), under which the inserts are.
    const chain = ancestry(spans, auditConsumer);
    const positions = positionsIn(chain);
    expect({ chain, positions }).toEqual({ chain, positions: [...positions].sort((a, b) => a - b) });

    const batchTrace = auditConsumer.tags?.['messaging.batch.trace_id'];
    const batchSpan = auditConsumer.tags?.['messaging.batch.span_id'] ?? auditConsumer.id;
    const insert = await eventually(
      async () => {
        const inBatch = batchTrace ? await traceOf(batchTrace) : await traceOf(traceId);
        return inBatch.find((s) => serviceOf(s) === 'audit' && isInsert(s) && hasAncestor(inBatch, s, batchSpan));
      },
      30_000,
      1_000,
    );
    expect(insert).toBeDefined();
    expect(spans.some((s) => serviceOf(s) === 'notification' && / process( batch)?$/.test(s.name))).toBe(true);
  }, 150_000);
});

const hasAncestor = (spans: ZipkinSpan[], span: ZipkinSpan, id: string | undefined): boolean => {
  const byId = new Map(spans.map((s) => [s.id, s]));
  for (let p = span.parentId ? byId.get(span.parentId) : undefined; p; p = p.parentId ? byId.get(p.parentId) : undefined) {
    if (p.id === id) return true;
  }
  return false;
};

describe('GET /metrics on every service after a walk', () => {
  const expected: Record<keyof typeof api, string[]> = {
    referral: ['sonet_referrals', 'sonet_referral_steps_overdue', 'sonet_referral_state_duration_bucket'],
    'records-transfer': ['sonet_records_transfer_transfers'],
    notification: ['sonet_notifications'],
    audit: ['sonet_audit_chain_head', 'sonet_audit_verify_ok', 'sonet_audit_verify_duration_bucket'],
  };
  const everywhere = [
    'http_server_request_duration_bucket',
    'messaging_outbox_backlog',
    'messaging_outbox_oldest_age',
    'messaging_kafka_consumer_lag',
    'messaging_inbox_retries_total',
    'messaging_dead_letters_total',
  ];

  it('answers each metric named in the documentation', async () => {
    await fetch(`${api.audit}/v1/audit/verify`, { headers: await tokens.bearer('auditor', 'X26') });
    // Every service answers at least one routed request (the HTTP duration is recorded per route once one has run).
    const ops = await tokens.bearer('ops', 'X26');
    await fetch(`${api.referral}/v1/referrals/${referralId}`, { headers: ops });
    await fetch(`${api['records-transfer']}/v1/transfers?referralId=${referralId}`, { headers: ops });
    await fetch(`${api.notification}/v1/notifications?referralId=${referralId}`, { headers: ops });
    for (const [service, url] of Object.entries(api) as [keyof typeof api, string][]) {
      const text = await eventually(async () => {
        const body = await (await fetch(`${url}/metrics`)).text();
        return [...everywhere, ...expected[service]].every((m) => body.includes(`${m}{`)) ? body : undefined;
      }, 30_000).catch(async () => (await fetch(`${url}/metrics`)).text());
      const missing = [...everywhere, ...expected[service]].filter((m) => !text.includes(`${m}{`));
      expect({ service, missing }).toEqual({ service, missing: [] });
    }
  });
});
