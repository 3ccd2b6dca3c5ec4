import { MikroORM, type EntityManager } from '@mikro-orm/postgresql';
import { readReferralConfig } from '../config';
import { referralOrmOptions } from '../orm';
import { DEMO_ORGANISATIONS, DEMO_TEAMS, type SeedOrganisation, type SeedTeam } from './demo-region';
import { ClinicalTeam, Organisation } from './entities';

/**
 * Inserts or updates the given organisations and teams, in one transaction: running it again changes nothing,
 * and a changed wait or name in the seed data overwrites the row. Organisations must list parents first.
 */
export async function seedDirectory(
  em: EntityManager,
  data: { organisations: SeedOrganisation[]; teams: SeedTeam[] } = { organisations: DEMO_ORGANISATIONS, teams: DEMO_TEAMS },
): Promise<{ organisations: number; teams: number }> {
  await em.transactional(async (tx) => {
    // Parents first, one statement per generation, so each site's trust exists before the site.
    const trusts = data.organisations.filter((o) => o.parentOds === null);
    const children = data.organisations.filter((o) => o.parentOds !== null);
    for (const batch of [trusts, children]) {
      if (batch.length > 0)
        await tx.upsertMany(
          Organisation,
          batch.map((o) => ({ ...o })),
        );
    }
    if (data.teams.length > 0) {
      await tx.upsertMany(
        ClinicalTeam,
        data.teams.map(({ siteOds, ...t }) => ({ ...t, site: siteOds })),
      );
    }
  });
  return { organisations: data.organisations.length, teams: data.teams.length };
}

/** CLI: `node dist/services/referral/src/directory/seed.js` (database from the referral service's environment). */
async function main(): Promise<void> {
  const orm = await MikroORM.init(referralOrmOptions(readReferralConfig()));
  try {
    const { organisations, teams } = await seedDirectory(orm.em.fork());
    process.stdout.write(`[seed] referral directory: ${organisations} organisations, ${teams} clinical teams upserted\n`);
  } finally {
    await orm.close(true);
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`[seed] referral directory: failed: ${(e as Error).message}\n`);
    process.exitCode = 1;
  });
}
