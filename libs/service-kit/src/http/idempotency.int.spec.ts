import { MikroORM, PostgreSqlDriver } from '@mikro-orm/postgresql';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { IDEMPOTENCY_SCHEMA_V1, PostgresIdempotencyStore } from './idempotency';
import { describeIdempotencyContract } from '../../test/idempotency.contract';

// The local PostgreSQL of infra/local (service-kit cannot use @sonet/testing: that library depends on this one).
const pg = {
  host: process.env.PGHOST ?? '127.0.0.1',
  port: Number(process.env.PGPORT ?? 5432),
  user: process.env.PGUSER ?? 'sonet',
  password: process.env.PGPASSWORD ?? 'sonet',
};
const dbName = `t_idempotency_${randomBytes(6).toString('hex')}`;
let orm: MikroORM | undefined;

const admin = async (sql: string) => {
  const c = new Client({ ...pg, database: 'postgres' });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
};

afterAll(async () => {
  await orm?.close(true);
  await admin(`drop database if exists "${dbName}" with (force)`);
});

describeIdempotencyContract('PostgreSQL', async (ttlMs, inProgressMs) => {
  await admin(`create database "${dbName}"`);
  orm = await MikroORM.init({ driver: PostgreSqlDriver, ...pg, dbName, entities: [], discovery: { warnWhenNoEntities: false } });
  await orm.em.fork().execute(IDEMPOTENCY_SCHEMA_V1);
  return new PostgresIdempotencyStore(orm.em, ttlMs, inProgressMs);
});
