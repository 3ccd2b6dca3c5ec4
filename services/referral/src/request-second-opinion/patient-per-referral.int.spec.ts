import { randomBytes } from 'node:crypto';
import { ReferralKeyStore } from '../referral-keys/referral-key-store';
import { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { Principal } from '@sonet/auth';
import { freshDatabase, integrationSettings, randomTestNhsNumber } from '@sonet/testing';
import { readReferralConfig, type ReferralConfig } from '../config';
import { DirectoryService } from '../directory/directory.service';
import { seedDirectory } from '../directory/seed';
import { findVisibleReferral } from '../domain/access';
import { ListReferralsHandler } from '../list-referrals/list-referrals.handler';
import { listReferralsQuerySchema } from '../list-referrals/list-referrals.query';
import { referralOrmOptions } from '../orm';
import { RequestSecondOpinionHandler } from './request-second-opinion.handler';

const gp = (organisation: string): Principal => ({ role: 'gp', organisation, subject: `gp-${organisation}` }) as Principal;

/** ADR 12: the patient's details belong to the referral they came with; no organisation can change another's. */
describe('patient details per referral (PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let config: ReferralConfig;
  let orm: MikroORM;

  beforeAll(async () => {
    db = await freshDatabase('referral_patient');
    const { pg } = integrationSettings();
    config = readReferralConfig({
      PGHOST: pg.host,
      PGPORT: String(pg.port),
      PGUSER: pg.user,
      PGPASSWORD: pg.password,
      PGDATABASE: db.dbName,
      LOG_LEVEL: 'warn',
    });
    orm = await MikroORM.init(referralOrmOptions(config));
  });
  afterAll(async () => {
    await orm?.close(true);
    await db?.drop();
  });

  it('the migration gives each referral its own copy of a patient row two referrals shared', async () => {
    await orm.migrator.up({ to: 'Migration20261124130000_process' });
    const em = orm.em.fork();
    await em.execute(
      `insert into patient values ('00000000-0000-4000-8000-000000000001', '9990000018', 'Shared Name', null, null, 'letter', now(), now())`,
    );
    for (const [id, practice, at] of [
      ['00000000-0000-4000-8000-0000000000a1', 'Y00001', '2026-01-01'],
      ['00000000-0000-4000-8000-0000000000b1', 'Y00002', '2026-01-02'],
    ]) {
      await em.execute(
        `insert into referral (id, patient_id, referring_practice, original_team_ods, original_team_name, responsible_team_ods, specialty, urgency, reason,
           explained_by_original_team, records_sharing_consent, state, workflow_id, created_at, updated_at)
         values (?, '00000000-0000-4000-8000-000000000001', ?, 'RJ122', 'Cardiology', 'RJ122', 'cardiology', 'routine', 'r', false, false, 'requested', ?, ?, ?)`,
        [id, practice, `wf-${id}`, at, at],
      );
    }
    await orm.migrator.up();
    const rows = await em.execute<{ referral_id: string; patient_id: string; nhs_number: string; name: string }[]>(
      `select r.id as referral_id, p.id as patient_id, p.nhs_number, p.name from referral r join patient p on p.id = r.patient_id order by r.created_at`,
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]!.patient_id).toBe('00000000-0000-4000-8000-000000000001');
    expect(rows[1]!.patient_id).not.toBe(rows[0]!.patient_id);
    expect(rows.map((r) => [r.nhs_number, r.name])).toEqual([
      ['9990000018', 'Shared Name'],
      ['9990000018', 'Shared Name'],
    ]);
  });

  it("a referral by practice B with the same NHS number leaves practice A's worklist and referral as A recorded them", async () => {
    await seedDirectory(orm.em.fork());
    const temporal = { workflow: { start: async () => ({}) } } as unknown as Client;
    const handler = new RequestSecondOpinionHandler(
      orm.em,
      new DirectoryService(orm.em),
      temporal,
      config,
      new ReferralKeyStore(randomBytes(32)),
    );
    const nhsNumber = randomTestNhsNumber();
    const request = (practice: string, name: string, email: string) =>
      handler.execute({
        referringPractice: practice,
        patient: { nhsNumber, name, email, preferredChannel: 'email' },
        originalTeamId: 'RJ122-CARD',
        specialty: 'cardiology',
        reason: 'second opinion',
        urgency: 'routine',
        explainedByOriginalTeam: false,
        recordsSharingConsent: false,
      });
    const a = await request('A81001', 'Ann Alpha', 'ann@a.example');
    await request('B82005', 'Someone Else', 'other@b.example');

    const list = new ListReferralsHandler(orm.em);
    const worklistA = await list.execute(gp('A81001'), listReferralsQuerySchema.parse({}));
    expect(worklistA.items.map((i) => i.patientName)).toEqual(['Ann Alpha']);
    const referralA = await findVisibleReferral(orm.em.fork(), a.referralId, gp('A81001'));
    expect(referralA.patient).toMatchObject({ nhsNumber, name: 'Ann Alpha', email: 'ann@a.example' });
    expect((await list.execute(gp('B82005'), listReferralsQuerySchema.parse({}))).items.map((i) => i.patientName)).toEqual([
      'Someone Else',
    ]);

    // The patient still sees both of their referrals, each as its practice described them.
    const patient = { role: 'patient', organisation: 'PATIENT', subject: 'p', nhsNumber } as Principal;
    expect((await list.execute(patient, listReferralsQuerySchema.parse({}))).items.map((i) => i.patientName).sort()).toEqual([
      'Ann Alpha',
      'Someone Else',
    ]);
  });
});
