import { PATH_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Principal } from '@sonet/auth';
import { Problem } from '@sonet/service-kit';
import type { DirectoryService, DirectoryTeam } from '../directory/directory.service';
import type { Referral } from '../domain/entities';
import type { DecisionAction } from '../workflows/decider';
import type { SecondOpinionStatus } from '../workflows/definitions';
import type { DecideHandler } from './decide.handler';
import { APPOINTMENT_CLOCK_SKEW_MS } from './decision.commands';
import { DecisionsController } from './decisions.http.controller';

const ID = '0b7c6f8e-1d2a-4c3b-9e8f-7a6b5c4d3e2f';
const referral = {
  id: ID,
  specialty: 'Cardiology',
  referringPractice: 'B82001',
  originalTeamOds: 'RJ122',
  responsibleTeamOds: 'RJ122',
  targetTeamOds: 'RTH01',
  state: 'accepted',
  revision: 3,
} as unknown as Referral;

const team = (id: string, specialty: string): DirectoryTeam => ({
  id,
  name: `${specialty} team`,
  specialty,
  contactEmail: 'team@example.invalid',
  waitWeeks: 4,
  acceptsSecondOpinions: true,
  site: { ods: id.split('-')[0]!, name: 'A Hospital', postcode: 'LS1 1AA', lat: 53.8, lon: -1.5 },
  trust: null,
});
const TEAMS: Record<string, DirectoryTeam> = {
  'RTH01-CARD': team('RTH01-CARD', 'cardiology'),
  'RTH01-RESP': team('RTH01-RESP', 'respiratory'),
};

/** The HTTP layer of decisions, with the workflow and the directory stubbed: what it refuses, records and answers. */
function setUp(responsibleTeam: SecondOpinionStatus['responsibleTeam'] = 'original') {
  const decided: DecisionAction[] = [];
  const timeline: { eventType: string; summary: string }[] = [];
  const handler = {
    referralFor: async () => referral,
    assertParty: () => undefined,
    decide: async (_r: Referral, _p: Principal, action: DecisionAction): Promise<SecondOpinionStatus> => {
      decided.push(action);
      return { referralId: ID, state: 'awaiting-triage', revision: 4, allowedActions: [], responsibleTeam, timeline: [] };
    },
    recordOnTimeline: async (_id: string, _s: string, eventType: string, summary: string) => void timeline.push({ eventType, summary }),
  } as unknown as DecideHandler;
  const directory = {
    findTeam: async (id: string) => TEAMS[id] ?? null,
    findOrganisation: async (ods: string) => ({ ods, name: 'A Hospital', kind: 'site', lat: 53.8, lon: -1.5, contactEmail: null }),
  } as unknown as DirectoryService;
  const reply = { header: () => reply, request: { headers: {} } } as unknown as FastifyReply;
  const gp = { role: 'gp', organisation: 'B82001', subject: 'gp' } as unknown as Principal;
  return { controller: new DecisionsController(handler, directory), decided, timeline, reply, gp };
}

/** Controllers throw input problems synchronously and the rest asynchronously: both count. */
const problemOf = async (call: () => unknown): Promise<Problem> => {
  const e = await Promise.resolve()
    .then(call)
    .then(
      () => undefined,
      (err: unknown) => err,
    );
  expect(e).toBeInstanceOf(Problem);
  return e as Problem;
};

describe("refer: the target team's specialty", () => {
  it('refuses a team of another specialty with 422 naming both, and decides nothing', async () => {
    const { controller, decided, gp, reply } = setUp();
    const p = await problemOf(() => controller.gpDecision(ID, { decision: 'refer', targetTeamId: 'RTH01-RESP' }, gp, undefined, reply));
    expect(p.body).toMatchObject({
      status: 422,
      type: 'urn:sonet:problem:specialty-mismatch',
      referralSpecialty: 'Cardiology',
      teamSpecialty: 'respiratory',
    });
    expect(decided).toEqual([]);
  });

  it('refers to a team of another specialty when the GP gives a reason, and records the choice in the timeline', async () => {
    const { controller, decided, timeline, gp, reply } = setUp();
    await controller.gpDecision(
      ID,
      { decision: 'refer', targetTeamId: 'RTH01-RESP', specialtyMismatchReason: 'Breathlessness is thought respiratory.' },
      gp,
      undefined,
      reply,
    );
    expect(decided).toMatchObject([{ type: 'refer', targetTeam: { teamId: 'RTH01-RESP' } }]);
    expect(timeline).toEqual([
      { eventType: 'referral.specialty-mismatch-chosen', summary: expect.stringContaining('Breathlessness is thought respiratory.') },
    ]);
  });

  it('treats case and spacing as the same specialty, and records nothing extra', async () => {
    const { controller, decided, timeline, gp, reply } = setUp();
    await controller.gpDecision(ID, { decision: 'refer', targetTeamId: 'RTH01-CARD' }, gp, undefined, reply);
    expect(decided).toHaveLength(1);
    expect(timeline).toEqual([]);
  });
});

describe('appointments are in the future', () => {
  const clinician = { role: 'clinician', organisation: 'RTH01', subject: 'c' } as unknown as Principal;
  const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

  it.each([
    ['yesterday', -86_400_000],
    ['just beyond the clock-skew tolerance', -APPOINTMENT_CLOCK_SKEW_MS - 60_000],
  ])('refuses one %s with 400 naming appointmentAt (booking or rebooking: one endpoint)', async (_, offset) => {
    const { controller, decided, reply } = setUp();
    const p = await problemOf(() => controller.appointment(ID, { appointmentAt: at(offset) }, clinician, undefined, reply));
    expect(p.body).toMatchObject({ status: 400, 'invalid-params': [{ name: 'appointmentAt', reason: expect.stringContaining('future') }] });
    expect(JSON.stringify(p.body)).not.toContain(at(offset).slice(0, 16));
    expect(decided).toEqual([]);
  });

  it.each([
    ['within the clock-skew tolerance', -60_000],
    ['next week', 7 * 86_400_000],
  ])('books one %s', async (_, offset) => {
    const { controller, decided, reply } = setUp();
    await controller.appointment(ID, { appointmentAt: at(offset) }, clinician, undefined, reply);
    expect(decided).toMatchObject([{ type: 'book-appointment' }]);
  });
});

/** A valid body for each decision endpoint: an endpoint without one fails the test below. */
const BODIES: Record<string, unknown> = {
  gpDecision: { decision: 'decline', reason: 'not needed' },
  triage: { decision: 'accept' },
  moreInfo: { answer: 'the answer' },
  appointment: { appointmentAt: new Date(Date.now() + 86_400_000).toISOString() },
  opinion: { outcome: 'concurs', summary: 'the same' },
  informOriginalTeam: {},
  careTransfer: {},
  careTransferDecision: { decision: 'accept' },
  withdraw: {},
};

describe('every decision answers the responsible team as GET does ({ ods })', () => {
  const endpoints = Object.getOwnPropertyNames(DecisionsController.prototype).filter(
    (name) =>
      Reflect.getMetadata(METHOD_METADATA, (DecisionsController.prototype as unknown as Record<string, object>)[name]!) ===
      RequestMethod.POST,
  );

  it('knows a body for every POST endpoint', () => {
    expect(endpoints.filter((e) => !(e in BODIES))).toEqual([]);
    expect(endpoints.length).toBeGreaterThan(5);
  });

  it.each([
    ['original', 'RJ122'],
    ['receiving', 'RTH01'],
  ] as const)('when the %s team is responsible', async (responsible, ods) => {
    for (const name of endpoints) {
      const { controller, reply, gp } = setUp(responsible);
      const method = (controller as unknown as Record<string, (...a: unknown[]) => Promise<{ responsibleTeam: unknown }>>)[name]!;
      const answer = await method.call(controller, ID, BODIES[name], gp, undefined, reply);
      expect({ name, path: Reflect.getMetadata(PATH_METADATA, method), responsibleTeam: answer.responsibleTeam }).toEqual({
        name,
        path: expect.any(String),
        responsibleTeam: { ods },
      });
    }
  });
});
