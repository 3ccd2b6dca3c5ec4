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
  /**
   * How long getting a connection may take (a new one connecting, or waiting for a free one) before the query fails;
   * a database that cannot be reached then fails a request in this time (answered 503) instead of hanging.
   */
  readonly connectTimeoutMs?: number;
}

/** The default of DB_CONNECT_TIMEOUT_MS: short enough that a request meeting a dead database is answered within 5 s. */
export const DB_CONNECT_TIMEOUT_MS = 3_000;

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
    // pg's Pool options: a bounded connect, and TCP keep-alive so a connection to a vanished server is noticed.
    driverOptions: { connectionTimeoutMillis: db.connectTimeoutMs ?? DB_CONNECT_TIMEOUT_MS, keepAlive: true },
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
  DB_CONNECT_TIMEOUT_MS?: number;
}): DatabaseSettings => ({
  host: config.PGHOST,
  port: config.PGPORT,
  user: config.PGUSER,
  password: config.PGPASSWORD,
  dbName: config.PGDATABASE,
  poolMax: config.DB_POOL_MAX,
  ...(config.DB_CONNECT_TIMEOUT_MS ? { connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS } : {}),
});
