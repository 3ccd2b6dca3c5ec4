import type { DynamicModule } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { ServiceKitModule } from '@sonet/service-host';
import { randomBytes } from 'node:crypto';
import { MikroORM } from '@mikro-orm/postgresql';
import { IdempotencyInterceptor, PostgresIdempotencyStore, runMigrations } from '@sonet/service-kit';
import { freshDatabase, integrationSettings } from '@sonet/testing';
import { ReferralAppModule } from './app.module';
import { readReferralConfig } from './config';
import { referralOrmOptions } from './orm';

/** The referral service takes Idempotency-Key on every POST: the interceptor is global and its table is migrated. */
describe('Idempotency-Key in the referral service', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let orm: MikroORM;
  const { pg } = integrationSettings();

  beforeAll(async () => {
    db = await freshDatabase('referral_idempotency');
  });
  afterAll(async () => {
    await orm?.close(true);
    await db?.drop();
  });

  const config = () =>
    readReferralConfig({
      PGHOST: pg.host,
      PGPORT: String(pg.port),
      PGUSER: pg.user,
      PGPASSWORD: pg.password,
      PGDATABASE: db.dbName,
      LOG_LEVEL: 'warn',
      TEMPORAL_PAYLOAD_KEY: randomBytes(32).toString('base64'),
    });

  it('installs the interceptor for every route of the app (so every POST, present and future), through the shared host module', () => {
    const host = (ReferralAppModule.forRoot(config()).imports ?? []).find((m) => (m as DynamicModule).module === ServiceKitModule);
    expect((host as DynamicModule).providers).toContainEqual({ provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor });
  });

  it('migrates the key table, which claims a key once', async () => {
    await runMigrations(referralOrmOptions(config()));
    orm = await MikroORM.init(referralOrmOptions(config()));
    const store = new PostgresIdempotencyStore(orm.em);
    expect(await store.begin('A81001|gp', 'k1', 'f'.repeat(64))).toEqual({ kind: 'started' });
    expect(await store.begin('A81001|gp', 'k1', 'f'.repeat(64))).toEqual({ kind: 'in-progress' });
    await store.complete('A81001|gp', 'k1', { status: 202, headers: { location: '/v1/referrals/x' }, body: { id: 'x' } });
    expect(await store.begin('A81001|gp', 'k1', 'f'.repeat(64))).toEqual({
      kind: 'replay',
      answer: { status: 202, headers: { location: '/v1/referrals/x' }, body: { id: 'x' } },
    });
  });
});
