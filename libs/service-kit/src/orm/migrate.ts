import { MikroORM, type Options } from '@mikro-orm/postgresql';

/** Applies a service's pending migrations; returns the names applied. Quiet unless given a log function. */
export async function runMigrations(options: Options, log: (message: string) => void = () => undefined): Promise<string[]> {
  const orm = await MikroORM.init({ ...options, pool: { min: 0, max: 2 }, logger: log, colors: false });
  try {
    const applied = await orm.migrator.up();
    return applied.map((m) => m.name);
  } finally {
    await orm.close(true);
  }
}

/** Entry point of a service's `migrate` command: the explicit migration step, run before the service starts. */
export async function runMigrationsCli(service: string, options: () => Options): Promise<void> {
  try {
    const applied = await runMigrations(options(), (m) => process.stderr.write(`[migrate] ${service}: ${m}\n`));
    process.stdout.write(`[migrate] ${service}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}\n`);
  } catch (e) {
    process.stderr.write(`[migrate] ${service}: failed: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
