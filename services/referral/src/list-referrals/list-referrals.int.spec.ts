import { randomBytes } from 'node:crypto';
import { ReferralKeyStore } from '../referral-keys/referral-key-store';
import { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { Principal } from '@sonet/auth';
import { freshDatabase, integrationSettings, randomTestNhsNumber } from '@sonet/testing';
import { readReferralConfig, type ReferralConfig } from '../config';
import { DirectoryService } from '../directory/directory.service';
import { seedDirectory } from '../directory/seed';
import { referralOrmOptions } from '../orm';
import { RequestSecondOpinionHandler } from '../request-second-opinion/request-second-opinion.handler';
import { ListReferralsHandler, type ReferralSummary } from './list-referrals.handler';
import { listReferralsQuerySchema } from './list-referrals.query';

const who = (role: Principal['role'], organisation: string, nhsNumber?: string): Principal =>
  ({ role, organisation, subject: `${role}-${organisation}`, ...(nhsNumber ? { nhsNumber } : {}) }) as Principal;

/** GET /v1/referrals: role-scoped worklists, newest first, keyset-paged, against PostgreSQL. */
describe('worklists (PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let config: ReferralConfig;
  let orm: MikroORM;
  let request: (practice: string, nhsNumber?: string) => Promise<string>;
  let list: ListReferralsHandler;
  const all = new Map<string, { practice: string; nhsNumber: string }>();

  beforeAll(async () => {
    db = await freshDatabase('referral_worklists');
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
    await orm.migrator.up();
    await seedDirectory(orm.em.fork());
    // Temporal is not what is under test: starting a workflow succeeds and does nothing.
    const temporal = { workflow: { start: async () => ({}) } } as unknown as Client;
    const handler = new RequestSecondOpinionHandler(
      orm.em,
      new DirectoryService(orm.em),
      temporal,
      config,
      new ReferralKeyStore(randomBytes(32)),
    );
    request = async (practice, nhsNumber = randomTestNhsNumber()) => {
      const { referralId } = await handler.execute({
        referringPractice: practice,
        patient: { nhsNumber, name: `Patient ${all.size}`, preferredChannel: 'letter' },
        originalTeamId: 'RJ122-CARD',
        specialty: 'cardiology',
        reason: 'second opinion',
        urgency: 'routine',
        explainedByOriginalTeam: false,
        recordsSharingConsent: false,
      });
      all.set(referralId, { practice, nhsNumber });
      return referralId;
    };
    list = new ListReferralsHandler(orm.em);
  });
  afterAll(async () => {
    await orm?.close(true);
    await db?.drop();
  });

  const page = (principal: Principal, query: Record<string, string> = {}) => list.execute(principal, listReferralsQuerySchema.parse(query));
  const ids = (items: ReferralSummary[]) => items.map((i) => i.id);

  it('pages through a worklist while new referrals keep arriving: no row skipped, none repeated, newest first', async () => {
    const before: string[] = [];
    for (let i = 0; i < 23; i++) before.push(await request('A81001'));
    // Rows that share one creation instant: the id breaks the tie, so the cursor still falls between two rows.
    await orm.em.fork().execute(
      `update referral set created_at = '2026-11-30T12:00:00.000Z' where id in (${before
        .slice(5, 12)
        .map(() => '?')
        .join(',')})`,
      before.slice(5, 12),
    );

    const seen: ReferralSummary[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const result: { items: ReferralSummary[]; next: string | null } = await page(who('gp', 'A81001'), {
        limit: '4',
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...result.items);
      cursor = result.next;
      pages += 1;
      // New referrals arrive between pages (newer than every cursor: they belong to the top of the list, not to a later page).
      await request('A81001');
      await request('A81001');
    } while (cursor && pages < 50);

    expect(new Set(ids(seen)).size).toBe(seen.length);
    expect(
      ids(seen)
        .filter((id) => before.includes(id))
        .sort(),
    ).toEqual([...before].sort());
    expect(pages).toBe(Math.ceil(before.length / 4));
    // Newest first, by (createdAt, id): each row strictly after the one before it.
    for (let i = 1; i < seen.length; i++) {
      const [a, b] = [seen[i - 1]!, seen[i]!];
      expect(a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.id > b.id)).toBe(true);
    }
  });

  it("scopes each role's worklist: practice, receiving and original team, patient, operations", async () => {
    const otherPractice = [await request('B82005'), await request('B82005')];
    const nhsNumber = randomTestNhsNumber();
    const mine = [await request('A81001', nhsNumber), await request('B82005', nhsNumber)];
    const toRth = [...all.keys()].slice(0, 3);
    const toRxf = [...all.keys()].slice(3, 5);
    const em = orm.em.fork();
    await em.execute(`update referral set target_team_ods = 'RTH01' where id in (?, ?, ?)`, toRth);
    await em.execute(`update referral set target_team_ods = 'RXF01' where id in (?, ?)`, toRxf);

    const everything = async (principal: Principal, query: Record<string, string> = {}) => {
      const out: string[] = [];
      let cursor: string | null = null;
      do {
        const r: { items: ReferralSummary[]; next: string | null } = await page(principal, {
          ...query,
          limit: '100',
          ...(cursor ? { cursor } : {}),
        });
        out.push(...ids(r.items));
        cursor = r.next;
      } while (cursor);
      return out.sort();
    };
    const of = (practice: string) =>
      [...all]
        .filter(([, r]) => r.practice === practice)
        .map(([id]) => id)
        .sort();

    expect(await everything(who('gp', 'A81001'))).toEqual(of('A81001'));
    expect(await everything(who('gp', 'B82005'), { view: 'practice' })).toEqual(of('B82005'));
    expect(of('B82005')).toEqual(expect.arrayContaining(otherPractice));
    // A team's triage queue: what was sent to it, by site or by trust; never what was sent elsewhere.
    expect(await everything(who('clinician', 'RTH'))).toEqual([...toRth].sort());
    expect(await everything(who('clinician', 'RTH01'), { view: 'receiving' })).toEqual([...toRth].sort());
    expect(await everything(who('clinician', 'RXF'))).toEqual([...toRxf].sort());
    // The original team: every referral from it (all of them here were from RJ122), by site or by trust.
    expect(await everything(who('clinician', 'RJ1'), { view: 'original' })).toEqual([...all.keys()].sort());
    expect(await everything(who('clinician', 'RJ122'))).toEqual([]);
    expect(await everything(who('patient', 'PATIENT', nhsNumber))).toEqual([...mine].sort());
    expect(await everything(who('ops', 'X26'))).toEqual([...all.keys()].sort());

    for (const [principal, view] of [
      [who('gp', 'A81001'), 'all'],
      [who('clinician', 'RTH'), 'practice'],
      [who('patient', 'PATIENT', nhsNumber), 'receiving'],
      [who('auditor', 'X26'), undefined],
    ] as const) {
      await expect(page(principal, view ? { view } : {})).rejects.toMatchObject({ status: 403 });
    }
  });
});
