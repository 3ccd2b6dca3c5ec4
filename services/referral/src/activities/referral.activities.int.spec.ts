import { MikroORM } from '@mikro-orm/postgresql';
import { MockActivityEnvironment } from '@temporalio/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { runMigrations } from '@sonet/service-kit';
import { freshDatabase, integrationSettings, randomTestNhsNumber } from '@sonet/testing';
import { readReferralConfig } from '../config';
import { Patient, Referral } from '../domain/entities';
import { referralOrmOptions } from '../orm';
import { workflowIdFor } from '../workflows/definitions';
import { recordStep } from './record-step';
import { createReferralActivities } from './referral.activities';
import { ReferralKeyStore } from '../referral-keys/referral-key-store';
import { deriveId, openField } from '@sonet/messaging';
import { patientDetailsSchema, transferPatientSchema } from '@sonet/contracts';
import type { TransitionRecord } from '../workflows/definitions';

const PALS = { name: 'PALS', phone: '01632 960 000', email: 'pals@example.nhs.invalid', url: 'https://example.nhs.invalid/pals' };

/** The activities against the real PostgreSQL: read model and outbox change together, and retries add nothing. */
/** A step's event id, derived so each of a referral's test steps has its own. */
const stepIdFor = (referralId: string, i: number) => deriveId(referralId, 'test-step', String(i));

describe('referral activities', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let orm: MikroORM;
  const keys = new ReferralKeyStore(randomBytes(32));

  beforeAll(async () => {
    db = await freshDatabase('referral_activities');
    const { pg } = integrationSettings();
    const options = referralOrmOptions(
      readReferralConfig({ PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user, PGPASSWORD: pg.password, PGDATABASE: db.dbName }),
    );
    await runMigrations(options);
    orm = await MikroORM.init(options);
  });

  afterAll(async () => {
    await orm?.close(true);
    await db?.drop();
  });

  const newReferral = async (consent: boolean) => {
    const em = orm.em.fork();
    const patient = em.create(Patient, {
      id: randomUUID(),
      nhsNumber: randomTestNhsNumber(),
      name: 'Test Patient',
      email: 'p@example.org',
      phone: null,
      preferredChannel: 'email',
    });
    const id = randomUUID();
    em.create(Referral, {
      id,
      patient,
      referringPractice: 'A81001',
      originalTeamId: 'RJ122-CARD',
      originalTeamOds: 'RJ122',
      originalTeamName: 'Cardiology',
      responsibleTeamOds: 'RJ122',
      specialty: 'cardiology',
      urgency: 'routine',
      reason: 'r',
      explainedByOriginalTeam: false,
      recordsSharingConsent: consent,
      consentRecordedAt: consent ? new Date() : null,
      state: 'requested',
      workflowId: workflowIdFor(id),
    });
    await em.flush();
    return id;
  };

  const envFor = (referralId: string) =>
    new MockActivityEnvironment({ workflowExecution: { workflowId: workflowIdFor(referralId), runId: randomUUID() } });

  const outboxOf = (referralId: string) =>
    orm.em
      .fork()
      .execute<{ id: string; event_type: string; key: string; headers: Record<string, string>; value: string }[]>(
        'select id, event_type, key, headers, value from outbox where key = ? order by seq',
        [referralId],
      );

  it('records the request: state gp-review, one timeline entry and one referral.requested.v2 in the outbox', async () => {
    const referralId = await newReferral(true);
    const activities = createReferralActivities(orm, PALS, keys);
    await envFor(referralId).run(activities.recordRequested, { referralId });
    const referral = await orm.em.fork().findOneOrFail(Referral, { id: referralId });
    expect(referral.state).toBe('gp-review');
    const rows = await outboxOf(referralId);
    expect(rows.map((r) => r.event_type)).toEqual(['referral.requested.v2']);
    expect(rows[0]!.headers.ce_subject).toBe(referralId);
  });

  it('emits the same event id when an activity is retried, so nothing is published twice', async () => {
    const referralId = await newReferral(true);
    const activities = createReferralActivities(orm, PALS, keys);
    const env = envFor(referralId);
    await env.run(activities.recordRequested, { referralId });
    await env.run(activities.recordRequested, { referralId });
    await env.run(activities.requestRecordsTransfer, { referralId });
    await env.run(activities.requestRecordsTransfer, { referralId });
    const rows = await outboxOf(referralId);
    expect(rows.map((r) => r.event_type)).toEqual(['referral.requested.v2', 'records.transfer-requested.v2']);
  });

  it("rule 4: sends no records transfer request without the patient's consent", async () => {
    const referralId = await newReferral(false);
    const activities = createReferralActivities(orm, PALS, keys);
    const env = envFor(referralId);
    await env.run(activities.recordRequested, { referralId });
    const result = (await env.run(activities.requestRecordsTransfer, { referralId })) as { requested: boolean };
    expect(result.requested).toBe(false);
    expect((await outboxOf(referralId)).map((r) => r.event_type)).toEqual(['referral.requested.v2']);
  });

  it('seals the patient in both events with the referral’s key: nothing identifying in the outbox, and it opens to the details (ADR 14)', async () => {
    const referralId = await newReferral(true);
    const activities = createReferralActivities(orm, PALS, keys);
    const env = envFor(referralId);
    await env.run(activities.recordRequested, { referralId });
    await env.run(activities.requestRecordsTransfer, { referralId });
    const referral = await orm.em.fork().findOneOrFail(Referral, { id: referralId }, { populate: ['patient'] });
    const rows = await outboxOf(referralId);
    for (const row of rows) {
      const raw = JSON.stringify(row);
      for (const v of [referral.patient.nhsNumber, referral.patient.name, referral.patient.email!]) expect(raw).not.toContain(v);
    }
    const key = await keys.keyFor(orm.em.fork(), referralId);
    if (!key || key === 'destroyed') throw new Error('no key');
    const [requested, transfer] = rows.map((r) => (typeof r.value === 'string' ? JSON.parse(r.value) : r.value) as { patient: unknown });
    const at = (eventType: string) => ({ referralId, eventType, field: 'patient' });
    expect(openField(key, at('referral.requested.v2'), requested!.patient, patientDetailsSchema)).toMatchObject({
      nhsNumber: referral.patient.nhsNumber,
      name: 'Test Patient',
      email: 'p@example.org',
    });
    expect(openField(key, at('records.transfer-requested.v2'), transfer!.patient, transferPatientSchema)).toEqual({
      nhsNumber: referral.patient.nhsNumber,
    });
  });

  const transition = (referralId: string, seq: number, over: Partial<TransitionRecord>): TransitionRecord => ({
    referralId,
    seq,
    fromState: 'gp-review',
    toState: 'declined',
    revision: seq,
    actor: { role: 'gp', organisation: 'A81001' },
    action: { type: 'decline', reason: 'no new information' },
    attempt: 1,
    ...over,
  });

  it('rule 1: records a decline with its reason and the PALS contact, and ends the referral', async () => {
    const referralId = await newReferral(true);
    const activities = createReferralActivities(orm, PALS, keys);
    const env = envFor(referralId);
    await env.run(activities.recordRequested, { referralId });
    await env.run(activities.recordTransition, transition(referralId, 1, {}));
    const rows = await outboxOf(referralId);
    expect(rows.map((r) => r.event_type)).toEqual(['referral.requested.v2', 'referral.gp-declined.v1']);
    const declined = JSON.parse(rows[1]!.value) as { reason: string; pals: typeof PALS };
    expect(declined.reason).toBe('no new information');
    expect(declined.pals).toEqual(PALS);
    const referral = await orm.em.fork().findOneOrFail(Referral, { id: referralId });
    expect(referral.state).toBe('declined');
    expect(referral.revision).toBe(1);
    expect(referral.closedAt).not.toBeNull();
  });

  it('records a transition once, however often its activity is retried', async () => {
    const referralId = await newReferral(true);
    const activities = createReferralActivities(orm, PALS, keys);
    const env = envFor(referralId);
    await env.run(activities.recordRequested, { referralId });
    const refer = transition(referralId, 1, {
      toState: 'awaiting-triage',
      action: {
        type: 'refer',
        targetTeam: { teamId: 'RTH01-CARD', ods: 'RTH01', name: 'Cardiology', siteName: 'County General', distanceKm: 12.5 },
      },
      dueAt: '2026-12-08T09:00:00.000Z',
      dueStep: 'triage',
    });
    const first = (await env.run(activities.recordTransition, refer)) as { at: string };
    const again = (await env.run(activities.recordTransition, refer)) as { at: string };
    expect(again.at).toBe(first.at);
    expect((await outboxOf(referralId)).map((r) => r.event_type)).toEqual(['referral.requested.v2', 'referral.referred.v1']);
    const referral = await orm.em.fork().findOneOrFail(Referral, { id: referralId });
    // Rule 7 and rule 5: the chosen team with its distance; the original team stays responsible.
    expect(referral).toMatchObject({
      state: 'awaiting-triage',
      targetTeamId: 'RTH01-CARD',
      distanceKm: 12.5,
      responsibleTeamOds: 'RJ122',
      dueStep: 'triage',
    });
    const referred = JSON.parse((await outboxOf(referralId))[1]!.value) as { secondOpinion: boolean; attempt: number };
    // Rule 3: the receiving team is told it is a second opinion.
    expect(referred).toMatchObject({ secondOpinion: true, attempt: 1 });
  });

  it('rule 5: makes the receiving team responsible only when it accepts a care transfer', async () => {
    const referralId = await newReferral(true);
    const activities = createReferralActivities(orm, PALS, keys);
    const env = envFor(referralId);
    await env.run(activities.recordRequested, { referralId });
    await env.run(
      activities.recordTransition,
      transition(referralId, 1, {
        toState: 'awaiting-triage',
        action: { type: 'refer', targetTeam: { teamId: 'RTH01-CARD', ods: 'RTH01', name: 'Cardiology', siteName: 'County General' } },
      }),
    );
    await env.run(
      activities.recordTransition,
      transition(referralId, 2, {
        fromState: 'care-transfer-requested',
        toState: 'care-transferred',
        action: { type: 'care-transfer-decision', accept: true },
      }),
    );
    const referral = await orm.em.fork().findOneOrFail(Referral, { id: referralId });
    expect(referral.responsibleTeamOds).toBe('RTH01');
  });

  it('loses no update when steps of one referral are recorded at once: a step on a changed referral fails and its retry applies', async () => {
    const referralId = await newReferral(true);
    // Ten steps each counting one more attempt, all at once; each retried (as its activity would be) until recorded.
    const count = (i: number) => async () => {
      for (let tries = 0; ; tries++) {
        try {
          return await recordStep(orm, referralId, stepIdFor(referralId, i), () => ({
            summary: `step ${i}`,
            apply: (ref) => {
              ref.attempt += 1;
            },
          }));
        } catch (e) {
          if (tries > 20 || !/changed while step/.test((e as Error).message)) throw e;
        }
      }
    };
    await Promise.all(Array.from({ length: 10 }, (_, i) => count(i)()));
    const referral = await orm.em.fork().findOneOrFail(Referral, { id: referralId });
    expect(referral.attempt).toBe(10);
    const entries = await orm.em
      .fork()
      .execute<{ n: string }[]>('select count(*) as n from referral_timeline where referral_id = ?', [referralId]);
    expect(Number(entries[0]!.n)).toBe(10);
  });
});
