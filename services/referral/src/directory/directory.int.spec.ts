import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { MikroORM, PostgreSqlDriver } from '@mikro-orm/postgresql';
import { AuthModule, verifierSettingsFrom } from '@sonet/auth';
import { ProblemDetailsFilter, runMigrations } from '@sonet/service-kit';
import { freshDatabase, integrationSettings, testTokens } from '@sonet/testing';
import { readReferralConfig, type ReferralConfig } from '../config';
import { referralOrmOptions } from '../orm';
import { DEMO_ORGANISATIONS, DEMO_TEAMS } from './demo-region';
import { DirectoryModule } from './directory.module';
import { DirectorySearchError, DirectoryService } from './directory.service';
import { distanceKm } from './distance';
import { seedDirectory } from './seed';

/** The directory against the real PostgreSQL, seeded with the demo region; and its HTTP API with real tokens. */
describe('directory of organisations and clinical teams', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let config: ReferralConfig;
  let orm: MikroORM;
  let directory: DirectoryService;
  let tokens: Awaited<ReturnType<typeof testTokens>>;

  beforeAll(async () => {
    tokens = await testTokens();
    db = await freshDatabase('referral_directory');
    const { pg } = integrationSettings();
    config = readReferralConfig({
      PGHOST: pg.host,
      PGPORT: String(pg.port),
      PGUSER: pg.user,
      PGPASSWORD: pg.password,
      PGDATABASE: db.dbName,
      LOG_LEVEL: 'warn',
      ...tokens.env,
    });
    await runMigrations(referralOrmOptions(config));
    orm = await MikroORM.init(referralOrmOptions(config));
    await seedDirectory(orm.em.fork());
    directory = new DirectoryService(orm.em);
  });

  afterAll(async () => {
    await orm?.close(true);
    await db?.drop();
  });

  const count = async (table: 'organisation' | 'clinical_team') =>
    Number((await orm.em.fork().execute<{ n: string }[]>(`select count(*) as n from ${table}`))[0]!.n);

  describe('the seed', () => {
    it('loads the demo region, and running it again changes nothing', async () => {
      expect(await count('organisation')).toBe(DEMO_ORGANISATIONS.length);
      expect(await count('clinical_team')).toBe(DEMO_TEAMS.length);
      await seedDirectory(orm.em.fork());
      expect(await count('organisation')).toBe(DEMO_ORGANISATIONS.length);
      expect(await count('clinical_team')).toBe(DEMO_TEAMS.length);
    });

    it('brings changed seed values back, e.g. a wait edited by hand', async () => {
      await orm.em.fork().execute(`update clinical_team set current_wait_weeks = 99 where id = ?`, ['RTH01-ONC']);
      await seedDirectory(orm.em.fork());
      expect((await directory.findTeam('RTH01-ONC'))!.waitWeeks).toBe(DEMO_TEAMS.find((t) => t.id === 'RTH01-ONC')!.currentWaitWeeks);
    });
  });

  describe('findTeam and findOrganisation', () => {
    it('gives a team with its site, location and trust', async () => {
      expect(await directory.findTeam('RJ122-CARD')).toEqual({
        id: 'RJ122-CARD',
        name: 'Cardiology',
        specialty: 'cardiology',
        contactEmail: expect.stringMatching(/@st-elsewhere\.nhs\.invalid$/),
        waitWeeks: expect.any(Number),
        acceptsSecondOpinions: true,
        site: { ods: 'RJ122', name: 'St Elsewhere Hospital', postcode: 'LS1 3EX', lat: 53.8017, lon: -1.552 },
        trust: { ods: 'RJ1', name: 'St Elsewhere Hospitals NHS Foundation Trust' },
      });
    });

    it('answers null for an unknown team or organisation', async () => {
      expect(await directory.findTeam('ZZ999-CARD')).toBeNull();
      expect(await directory.findOrganisation('ZZ999')).toBeNull();
    });

    it('gives an organisation with its kind and parent', async () => {
      expect(await directory.findOrganisation('RXF05')).toMatchObject({ ods: 'RXF05', kind: 'site', parentOds: 'RXF' });
      expect(await directory.findOrganisation('A81001')).toMatchObject({ kind: 'gp-practice', parentOds: null, lat: expect.any(Number) });
    });
  });

  describe('searchTeams', () => {
    it("rule 7: shows each team's site and travel distance from the GP practice", async () => {
      const practice = (await directory.findOrganisation('A81001'))!;
      const teams = await directory.searchTeams({ specialty: 'cardiology', practiceOds: 'A81001', limit: 20 });
      expect(teams.length).toBeGreaterThanOrEqual(3);
      expect(teams[0]!.id).toBe('RJ122-CARD');
      for (const t of teams) {
        expect(t.site).toEqual(
          expect.objectContaining({ ods: expect.any(String), name: expect.any(String), postcode: expect.any(String) }),
        );
        expect(t.distanceKm).toBe(Math.round(distanceKm(practice, t.site) * 10) / 10);
      }
      const distances = teams.map((t) => t.distanceKm!);
      expect(distances).toEqual([...distances].sort((a, b) => a - b));
      // Another practice, another nearest hospital.
      const fromOssett = await directory.searchTeams({ specialty: 'cardiology', practiceOds: 'B82005', limit: 1 });
      expect(fromOssett.map((t) => t.site.ods)).toEqual(['RXF05']);
    });

    it('rule 3: can leave out the team that gave the first opinion', async () => {
      const teams = await directory.searchTeams({ specialty: 'cardiology', practiceOds: 'A81001', excludeTeamId: 'RJ122-CARD', limit: 20 });
      expect(teams.map((t) => t.id)).not.toContain('RJ122-CARD');
      expect(teams.length).toBeGreaterThan(0);
    });

    it('never offers a team that is not taking second opinions', async () => {
      const notTaking = DEMO_TEAMS.filter((t) => !t.acceptsSecondOpinions).map((t) => t.id);
      expect(notTaking.length).toBeGreaterThan(0);
      const offered = (await directory.searchTeams({ limit: 100 })).map((t) => t.id);
      for (const id of notTaking) expect(offered).not.toContain(id);
      expect((await directory.findTeam(notTaking[0]!))!.acceptsSecondOpinions).toBe(false);
    });

    it('keeps to maxKm from a point, nearest first', async () => {
      const halifax = { lat: 53.7207, lon: -1.8604 };
      const teams = await directory.searchTeams({ near: halifax, maxKm: 10, limit: 100 });
      expect(teams.length).toBeGreaterThan(0);
      for (const t of teams) expect(distanceKm(halifax, t.site)).toBeLessThanOrEqual(10);
      expect(new Set(teams.map((t) => t.site.ods))).toEqual(new Set(['RTH01', 'RTH02']));
    });

    it('orders by wait, without distances, when there is no origin', async () => {
      const teams = await directory.searchTeams({ specialty: 'rheumatology', limit: 20 });
      expect(teams.map((t) => t.id)).toContain('RXF05-RHEUM');
      const waits = teams.map((t) => t.waitWeeks);
      expect(waits).toEqual([...waits].sort((a, b) => a - b));
      for (const t of teams) expect(t).not.toHaveProperty('distanceKm');
    });

    it('refuses an unknown practice, maxKm without an origin, and two origins', async () => {
      await expect(directory.searchTeams({ practiceOds: 'Z99999', limit: 5 })).rejects.toMatchObject({ param: 'practice' });
      await expect(directory.searchTeams({ maxKm: 5, limit: 5 })).rejects.toBeInstanceOf(DirectorySearchError);
      await expect(directory.searchTeams({ near: { lat: 53, lon: -1 }, practiceOds: 'A81001', limit: 5 })).rejects.toMatchObject({
        param: 'near',
      });
      // A hospital site is not a GP practice.
      await expect(directory.searchTeams({ practiceOds: 'RJ122', limit: 5 })).rejects.toMatchObject({ param: 'practice' });
    });
  });

  describe('answered from memory (DIRECTORY_CACHE_TTL_MS)', () => {
    const wait = async (id: string) =>
      Number((await orm.em.fork().execute<{ w: number }[]>(`select current_wait_weeks as w from clinical_team where id = ?`, [id]))[0]!.w);

    afterEach(async () => {
      await seedDirectory(orm.em.fork());
      await orm.em.fork().execute(`delete from organisation where ods = 'Z99998'`);
    });

    it('answers a team found within the time from memory, and reads it again after', async () => {
      const cached = new DirectoryService(orm.em, 300);
      const seeded = (await cached.findTeam('RTH01-ONC'))!.waitWeeks;
      await orm.em.fork().execute(`update clinical_team set current_wait_weeks = 77 where id = ?`, ['RTH01-ONC']);
      expect(await wait('RTH01-ONC')).toBe(77);
      const kept = (await cached.findTeam('RTH01-ONC'))!;
      expect(kept.waitWeeks).toBe(seeded);
      // What every caller shares cannot be changed by one of them.
      expect(Object.isFrozen(kept) && Object.isFrozen(kept.site)).toBe(true);
      // Without a time, every look-up reads the database.
      expect((await new DirectoryService(orm.em).findTeam('RTH01-ONC'))!.waitWeeks).toBe(77);
      await new Promise((r) => setTimeout(r, 400));
      expect((await cached.findTeam('RTH01-ONC'))!.waitWeeks).toBe(77);
    });

    it('never keeps a look-up that found nothing: an organisation added is found at once', async () => {
      const cached = new DirectoryService(orm.em, 60_000);
      expect(await cached.findOrganisation('Z99998')).toBeNull();
      await orm.em
        .fork()
        .execute(
          `insert into organisation (ods, name, kind, parent_ods, postcode, lat, lon, contact_email) values ('Z99998', 'New Practice', 'gp-practice', null, 'LS1 1AA', 53.8, -1.55, null)`,
        );
      expect(await cached.findOrganisation('Z99998')).toMatchObject({ ods: 'Z99998', name: 'New Practice', kind: 'gp-practice' });
      // Teams and organisations are kept apart (one cache, two kinds of key).
      expect(await cached.findTeam('Z99998')).toBeNull();
    });
  });

  describe('HTTP', () => {
    let app: NestFastifyApplication;
    let baseUrl: string;

    beforeAll(async () => {
      @Module({
        imports: [
          AuthModule.forRoot(verifierSettingsFrom(config)),
          MikroOrmModule.forRoot({ ...referralOrmOptions(config), driver: PostgreSqlDriver }),
          DirectoryModule.register(0),
        ],
      })
      class DirectoryTestApp {}
      app = await NestFactory.create<NestFastifyApplication>(DirectoryTestApp, new FastifyAdapter(), { logger: false });
      app.useGlobalFilters(new ProblemDetailsFilter());
      await app.listen({ port: 0, host: '127.0.0.1' });
      baseUrl = await app.getUrl();
    });

    afterAll(async () => {
      await app?.close();
    });

    const get = async (path: string, role: Parameters<typeof tokens.bearer>[0] = 'gp', org = 'A81001') =>
      fetch(`${baseUrl}${path}`, { headers: await tokens.bearer(role, org) });

    it('rule 7: lists teams with site, trust, distance from the practice and wait', async () => {
      const res = await get('/v1/directory/teams?specialty=cardiology&practice=A81001&limit=3');
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: Array<Record<string, unknown>> };
      expect(body.items).toHaveLength(3);
      expect(body.items[0]).toEqual({
        id: 'RJ122-CARD',
        name: 'Cardiology',
        specialty: 'cardiology',
        site: { ods: 'RJ122', name: 'St Elsewhere Hospital', postcode: 'LS1 3EX' },
        trust: { ods: 'RJ1', name: 'St Elsewhere Hospitals NHS Foundation Trust' },
        distanceKm: expect.any(Number),
        waitWeeks: expect.any(Number),
        contactEmail: expect.any(String),
      });
    });

    it('gives one team, and 404 problem+json for an unknown one', async () => {
      const ok = await get('/v1/directory/teams/RTH01-ONC', 'clinician', 'RJ1');
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ id: 'RTH01-ONC', specialty: 'oncology', site: { ods: 'RTH01' }, trust: { ods: 'RTH' } });
      const missing = await get('/v1/directory/teams/ZZ999-NONE');
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toContain('application/problem+json');
    });

    it.each([
      ['near out of range', '/v1/directory/teams?near=95,0', 'near'],
      ['near not "lat,lon"', '/v1/directory/teams?near=leeds', 'near'],
      ['maxKm without an origin', '/v1/directory/teams?maxKm=10', 'maxKm'],
      ['an unknown practice', '/v1/directory/teams?practice=Z99999', 'practice'],
      ['a limit too large', '/v1/directory/teams?limit=1000', 'limit'],
      ['a malformed team id', '/v1/directory/teams/not%20a%20team', ''],
    ])('answers 400 problem+json for %s', async (_what, path, param) => {
      const res = await get(path);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const problem = (await res.json()) as { 'invalid-params': Array<{ name: string }> };
      if (param) expect(problem['invalid-params'].map((p) => p.name)).toContain(param);
    });

    it('needs a bearer token, and is not for auditors', async () => {
      expect((await fetch(`${baseUrl}/v1/directory/teams`)).status).toBe(401);
      expect((await get('/v1/directory/teams', 'auditor', 'X26')).status).toBe(403);
      for (const role of ['patient', 'ops'] as const) {
        const res = await (role === 'patient'
          ? fetch(`${baseUrl}/v1/directory/teams`, { headers: await tokens.bearer('patient', 'A81001', '943 476 5919') })
          : get('/v1/directory/teams', role, 'X26'));
        expect(res.status).toBe(200);
      }
    });
  });
});
