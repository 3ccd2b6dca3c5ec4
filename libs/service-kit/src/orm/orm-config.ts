import { defineConfig, PostgreSqlDriver, type Options } from '@mikro-orm/postgresql';
import { Migrator, type Migration } from '@mikro-orm/migrations';
import type { EntitySchema } from '@mikro-orm/core';

export interface DatabaseSettings {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly dbName: string;
  readonly poolMax: number;
}

/**
 * MikroORM settings for one service's own database. Migrations are checked in (TypeScript classes) and
 * run as an explicit step (`npm run migrate`), never on application start: they would race across replicas.
 */
export function ormOptions(
  db: DatabaseSettings,
  entities: EntitySchema[],
  migrations: Array<new (...args: never[]) => Migration>,
): Options {
  return defineConfig({
    driver: PostgreSqlDriver,
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    dbName: db.dbName,
    pool: { min: 0, max: db.poolMax },
    entities,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: false },
    allowGlobalContext: false,
    forceUtcTimezone: true,
    ensureDatabase: false,
    migrations: {
      tableName: 'mikro_orm_migrations',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      migrationsList: migrations as never,
    },
    debug: false,
  });
}

/** Database settings from a service config built on baseConfigSchema (with its own PGDATABASE). */
export const databaseSettings = (config: {
  PGHOST: string;
  PGPORT: number;
  PGUSER: string;
  PGPASSWORD: string;
  PGDATABASE: string;
  DB_POOL_MAX: number;
}): DatabaseSettings => ({
  host: config.PGHOST,
  port: config.PGPORT,
  user: config.PGUSER,
  password: config.PGPASSWORD,
  dbName: config.PGDATABASE,
  poolMax: config.DB_POOL_MAX,
});
