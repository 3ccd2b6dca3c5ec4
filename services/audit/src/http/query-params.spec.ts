import { Problem } from '@sonet/service-kit';
import type { Principal } from '@sonet/auth';
import type { FastifyReply } from 'fastify';
import { QueryEventsController } from '../query-events/query-events.http.controller';
import type { QueryEventsHandler } from '../query-events/query-events.handler';
import { ReferralTimelineController } from '../referral-timeline/referral-timeline.http.controller';
import type { ReferralTimelineHandler } from '../referral-timeline/referral-timeline.handler';
import { VerifyLogController } from '../verify-log/verify-log.http.controller';
import type { VerifyLogHandler } from '../verify-log/verify-log.handler';
import { ExportEvidenceController } from '../export-evidence/export-evidence.http.controller';
import type { ExportEvidenceHandler } from '../export-evidence/export-evidence.handler';
import { BAD_VALUES, badQueries, ID_PATHS, type QueryValue } from '../../test/bad-query.table';

// The controllers as the router calls them, with handlers that would answer anything: a query that gets past
// validation reaches `reached` instead of the database.
let reached = 0;
const handler = { execute: () => (reached++, Promise.resolve({ items: [], next: null })) };
const principal = { subject: 'auditor-1', roles: ['auditor'] } as unknown as Principal;
const reply = { header: () => reply, send: () => reply } as unknown as FastifyReply;
const events = new QueryEventsController(handler as unknown as QueryEventsHandler);
const timeline = new ReferralTimelineController(handler as unknown as ReferralTimelineHandler);
const verify = new VerifyLogController(handler as unknown as VerifyLogHandler);
const exporter = new ExportEvidenceController(handler as unknown as ExportEvidenceHandler);
const ID = '6f1c1f55-6a4a-4d5e-9a43-9b0a1c2d3e4f';

/** Calls an endpoint as GET <endpoint>?<query> would (the :id given separately). */
const call = (endpoint: string, query: Record<string, QueryValue>, id = ID): Promise<unknown> => {
  switch (endpoint) {
    case 'GET /v1/audit/events':
      return events.list(query, principal);
    case 'GET /v1/audit/verify':
      return verify.verify(query);
    case 'GET /v1/audit/referrals/:id/export':
      return exporter.export(id, query, principal, reply);
    case 'GET /v1/audit/referrals/:id/timeline':
      return timeline.timeline(id, query, principal);
    default:
      throw new Error(`no such endpoint in this test: ${endpoint}`);
  }
};

/** The 400 problem an endpoint answers, or a failure naming what it did instead. */
async function rejection(
  endpoint: string,
  query: Record<string, QueryValue>,
  id?: string,
): Promise<{ status: number; detail: string; 'invalid-params': { name: string; reason: string }[] }> {
  const before = reached;
  try {
    await Promise.resolve().then(() => call(endpoint, query, id));
  } catch (e) {
    if (!(e instanceof Problem)) throw new Error(`${endpoint} threw ${String(e)} (a 500), not a 400 problem`);
    return e.body as never;
  }
  throw new Error(`${endpoint} accepted ${JSON.stringify(query)}${reached > before ? ' and called its handler' : ''}`);
}

describe('every query parameter of every audit GET endpoint', () => {
  it.each(badQueries())('%s answers 400 naming %s for %s, without echoing it', async (endpoint, param, _name, value, rest) => {
    const problem = await rejection(endpoint, { ...rest, [param]: value });
    expect(problem.status).toBe(400);
    expect(problem['invalid-params'].map((p) => p.name)).toContain(param);
    if (String(value).length > 2) expect(JSON.stringify(problem)).not.toContain(String(value));
  });

  it.each(
    ID_PATHS.flatMap(({ endpoint }) =>
      Object.entries(BAD_VALUES)
        .filter(([, v]) => typeof v === 'string')
        .map(([name, v]) => [endpoint, name, v as string]),
    ),
  )('%s answers 400 for an id that is %s', async (endpoint, _name, value) => {
    const problem = await rejection(endpoint, {}, value);
    expect(problem.status).toBe(400);
  });

  it('still answers the valid queries the table is built on', async () => {
    await expect(
      call('GET /v1/audit/events', { type: 'referral.requested.v1', after: '9223372036854775807', limit: '500' }),
    ).resolves.toBeDefined();
    await expect(call('GET /v1/audit/events', { actor: 'dr-ü', from: '2026-01-01T00:00:00Z' })).resolves.toBeDefined();
    await expect(call('GET /v1/audit/verify', { from: '1' })).resolves.toBeDefined();
    await expect(call('GET /v1/audit/referrals/:id/timeline', {})).resolves.toBeDefined();
  });
});
