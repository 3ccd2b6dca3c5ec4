import { MikroORM } from '@mikro-orm/postgresql';
import { MockActivityEnvironment } from '@temporalio/testing';
import { randomUUID } from 'node:crypto';
import { runMigrations } from '@sonet/service-kit';
import { freshDatabase, integrationSettings, randomTestNhsNumber } from '@sonet/testing';
import { readReferralConfig } from '../config';
import { Patient, Referral } from '../domain/entities';
import { referralOrmOptions } from '../orm';
import { workflowIdFor } from '../workflows/definitions';
import { createReferralActivities } from './referral.activities';

/** The activities against the real PostgreSQL: read model and outbox change together, and retries add nothing. */
describe('referral activities', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let orm: MikroORM;

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
    orm.em.fork().execute<{ id: string; event_type: string; key: string; headers: Record<string, string> }[]>(
      'select id, event_type, key, headers from outbox where key = ? order by seq',
      [referralId],
    );

  it('records the request: state gp-review, one timeline entry and one referral.requested.v1 in the outbox', async () => {
    const referralId = await newReferral(true);
    const activities = createReferralActivities(orm);
    await envFor(referralId).run(activities.recordRequested, { referralId });
    const referral = await orm.em.fork().findOneOrFail(Referral, { id: referralId });
    expect(referral.state).toBe('gp-review');
    const rows = await outboxOf(referralId);
    expect(rows.map((r) => r.event_type)).toEqual(['referral.requested.v1']);
    expect(rows[0]!.headers.ce_subject).toBe(referralId);
  });

  it('emits the same event id when an activity is retried, so nothing is published twice', async () => {
    const referralId = await newReferral(true);
    const activities = createReferralActivities(orm);
    const env = envFor(referralId);
    await env.run(activities.recordRequested, { referralId });
    await env.run(activities.recordRequested, { referralId });
    await env.run(activities.requestRecordsTransfer, { referralId });
    await env.run(activities.requestRecordsTransfer, { referralId });
    const rows = await outboxOf(referralId);
    expect(rows.map((r) => r.event_type)).toEqual(['referral.requested.v1', 'records.transfer-requested.v1']);
  });

  it('rule 4: sends no records transfer request without the patient\'s consent', async () => {
    const referralId = await newReferral(false);
    const activities = createReferralActivities(orm);
    const env = envFor(referralId);
    await env.run(activities.recordRequested, { referralId });
    const result = (await env.run(activities.requestRecordsTransfer, { referralId })) as { requested: boolean };
    expect(result.requested).toBe(false);
    expect((await outboxOf(referralId)).map((r) => r.event_type)).toEqual(['referral.requested.v1']);
  });
});
