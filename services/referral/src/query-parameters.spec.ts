import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthModule, verifierSettingsFrom } from '@sonet/auth';
import { configureHttpApp, notFoundProblem } from '@sonet/service-kit';
import { testTokens } from '@sonet/testing';
import { DirectoryController } from './directory/directory.http.controller';
import { DirectoryService } from './directory/directory.service';
import { GetReferralController } from './get-referral/get-referral.http.controller';
import { GetReferralHandler } from './get-referral/get-referral.handler';
import { ListReferralsController } from './list-referrals/list-referrals.http.controller';
import { ListReferralsHandler } from './list-referrals/list-referrals.handler';
import { encodeCursor } from './list-referrals/list-referrals.query';
import { MarthasRuleController } from './out-of-scope/marthas-rule.http.controller';

const REFERRAL_ID = '0b7c6f8e-1d2a-4c3b-9e8f-7a6b5c4d3e2f';
const b64 = (s: string) => Buffer.from(s).toString('base64url');

/** Values no query parameter takes: each endpoint must refuse them all with 400 problem+json. */
const EVERY_PARAMETER_REFUSES = {
  empty: '',
  huge: 'x'.repeat(5000),
  'a control character': 'a\u0000b',
};
const NUMBER_REFUSES = {
  'not a number': 'abc',
  'not an integer': '2.5',
  negative: '-1',
  zero: '0',
  'too large': '99999999999999999999',
  exponent: '1e400',
};

/**
 * Every GET endpoint of the referral service with its parameters and the bad values each must refuse. A GET
 * route not listed here fails the test: a new endpoint comes with its table.
 */
const ENDPOINTS: Record<string, { path: string; good: string; params: Record<string, Record<string, string>> }> = {
  '/v1/referrals': {
    path: '/v1/referrals',
    good: 'view=all&state=requested,gp-review&urgency=routine&specialty=cardiology&overdue=false&limit=10',
    params: {
      view: { unknown: 'everyone' },
      state: { 'unknown state': 'nonsense', 'only commas': ',,' },
      urgency: { unknown: 'soon' },
      specialty: {},
      overdue: { 'not a boolean': 'yes' },
      limit: NUMBER_REFUSES,
      cursor: {
        'not base64 JSON': 'not-a-cursor',
        'JSON of the wrong shape': b64('{"a":1}'),
        'an impossible date': b64(JSON.stringify(['2026-02-31T00:00:00.000Z', REFERRAL_ID])),
        'not a uuid': b64(JSON.stringify(['2026-02-01T00:00:00.000Z', 'x'])),
      },
    },
  },
  '/v1/referrals/:id': { path: `/v1/referrals/${REFERRAL_ID}`, good: '', params: {} },
  '/v1/directory/teams': {
    path: '/v1/directory/teams',
    good: 'specialty=cardiology&near=53.8,-1.55&maxKm=50&excludeTeamId=RJ122-CARD&limit=5',
    params: {
      specialty: { 'not a slug': 'Cardio logy!' },
      near: { 'out of range': '91,0', 'not a point': 'abc' },
      practice: { 'not an ODS code': '!!' },
      maxKm: { ...NUMBER_REFUSES, 'not an integer': 'x' },
      excludeTeamId: { 'not a team id': 'nope' },
      limit: NUMBER_REFUSES,
    },
  },
  '/v1/directory/teams/:id': { path: '/v1/directory/teams/RJ122-CARD', good: '', params: {} },
  '/v1/scope/marthas-rule': { path: '/v1/scope/marthas-rule', good: '', params: {} },
};
/** GET routes that answer the same whatever they are asked (Martha's Rule: always 422, out of scope). */
const ANSWERS_ANYTHING_ALIKE = new Set(['/v1/urgent-inpatient-reviews']);

/** Handlers and directory stubbed: what is tested is the HTTP layer, which must refuse bad input before them. */
@Module({
  imports: [],
  controllers: [ListReferralsController, GetReferralController, DirectoryController, MarthasRuleController],
  providers: [
    { provide: ListReferralsHandler, useValue: { execute: async () => ({ items: [], next: null }) } },
    { provide: GetReferralHandler, useValue: { execute: async () => Promise.reject(notFoundProblem('No referral.')) } },
    { provide: DirectoryService, useValue: { searchTeams: async () => [], findTeam: async () => null } },
  ],
})
class ReferralQueriesModule {}

describe('every query parameter of every GET endpoint is validated (400 problem+json, never 5xx)', () => {
  let app: NestFastifyApplication;
  let auth: { authorization: string };
  let dir: string;
  const getRoutes: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'referral-queries-'));
    const tokens = await testTokens(dir);
    @Module({ imports: [AuthModule.forRoot(verifierSettingsFrom(tokens.env)), ReferralQueriesModule] })
    class TestApp {}
    const adapter = new FastifyAdapter();
    adapter.getInstance().addHook('onRoute', (r) => {
      const methods = [r.method].flat();
      if (methods.includes('GET')) getRoutes.push(r.url.replace(/\/$/, ''));
    });
    app = await NestFactory.create<NestFastifyApplication>(TestApp, adapter, { logger: false });
    configureHttpApp(app);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    auth = await tokens.bearer('ops', 'X26');
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (url: string) => app.getHttpAdapter().getInstance().inject({ method: 'GET', url, headers: auth });

  it('covers every GET route the controllers declare', () => {
    const known = new Set([...Object.keys(ENDPOINTS), ...ANSWERS_ANYTHING_ALIKE]);
    expect(getRoutes.filter((r) => !known.has(r))).toEqual([]);
  });

  const expectRefused = async (url: string, secret?: string) => {
    const res = await get(url);
    expect({ url, status: res.statusCode }).toEqual({ url, status: 400 });
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    if (secret && secret.length > 3) expect(res.body).not.toContain(secret);
  };

  describe.each(Object.entries(ENDPOINTS))('%s', (_, e) => {
    const withGood = (extra: string) => `${e.path}?${[e.good, extra].filter(Boolean).join('&')}`;

    it('answers good parameters without a 4xx or 5xx about them', async () => {
      expect([200, 404]).toContain((await get(withGood(''))).statusCode);
    });

    it('refuses an unknown parameter', () => expectRefused(withGood('unknownParam=1')));

    const cases = Object.entries(e.params).flatMap(([name, bad]) => [
      ...Object.entries({ ...EVERY_PARAMETER_REFUSES, ...bad }).map(([why, value]) => [name, why, value] as const),
    ]);
    if (cases.length > 0) {
      it.each(cases)('refuses %s: %s', (name, _why, value) => expectRefused(withGood(`${name}=${encodeURIComponent(value)}`), value));
    }

    const names = Object.keys(e.params);
    if (names.length > 0) {
      it.each(names)('refuses %s given twice', (name) => expectRefused(`${e.path}?${name}=1&${name}=2`));
    }
  });

  it('keeps good cursors working', async () => {
    const cursor = encodeCursor({ createdAt: '2026-02-01T00:00:00.000Z', id: REFERRAL_ID });
    expect((await get(`/v1/referrals?cursor=${cursor}`)).statusCode).toBe(200);
  });
});
