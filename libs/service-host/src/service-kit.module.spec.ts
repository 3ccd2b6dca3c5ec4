import type { DynamicModule, FactoryProvider } from '@nestjs/common';
import type { PayloadCodec } from '@temporalio/common';
import { HealthModule, READINESS_PROBES, TemporalClientModule, type ReadinessProbe } from '@sonet/service-kit';
import { MessagingModule } from '@sonet/messaging';
import { AuthModule } from '@sonet/auth';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { IDEMPOTENCY_STORE, IdempotencyInterceptor } from '@sonet/service-kit';
import { ServiceKitModule, type ServiceKitModuleOptions } from './service-kit.module';

const config = {
  LOG_LEVEL: 'warn',
  KAFKA_BROKERS: ['127.0.0.1:9092'],
  AUTH_ISSUER: 'https://issuer.test',
  AUTH_AUDIENCE: 'sonet',
  AUTH_JWKS_FILE: 'jwks.json',
};
const modulesOf = (options: Partial<ServiceKitModuleOptions> = {}) =>
  (ServiceKitModule.forRoot({ serviceName: 'svc', config, ormOptions: { dbName: 'x' }, ...options }).imports ?? []) as DynamicModule[];

/** The probes the health module would build, from fake dependencies in the order the module injects them. */
const probes = (modules: DynamicModule[], extra: unknown[] = []): string[] => {
  const health = modules.find((m) => m.module === HealthModule)!;
  const provider = health.providers!.find((p) => (p as FactoryProvider).provide === READINESS_PROBES) as FactoryProvider;
  const fakes = (provider.inject ?? []).map((_token, i) =>
    i < provider.inject!.length - extra.length ? {} : extra[i - (provider.inject!.length - extra.length)],
  );
  return (provider.useFactory(...fakes) as ReadinessProbe[]).map((p) => p.name);
};

describe('ServiceKitModule: the wiring every service shares', () => {
  it('gives every service auth, messaging and health checking the database and Kafka', () => {
    const modules = modulesOf();
    expect(modules.map((m) => m.module)).toEqual(expect.arrayContaining([AuthModule, MessagingModule, HealthModule]));
    expect(modules.map((m) => m.module)).not.toContain(TemporalClientModule);
    expect(probes(modules)).toEqual(['database', 'kafka']);
  });

  it('adds a Temporal client and its readiness probe when the service runs processes', () => {
    const modules = modulesOf({ temporal: { address: '127.0.0.1:7233', namespace: 'default', codec: {} as PayloadCodec } });
    expect(modules.map((m) => m.module)).toContain(TemporalClientModule);
    expect(probes(modules)).toEqual(['database', 'kafka', 'temporal']);
  });

  it("adds the service's own probes after the shared ones, from the providers it names", () => {
    const SMTP = Symbol('smtp');
    const modules = modulesOf({
      readiness: {
        inject: [SMTP],
        useFactory: (smtp: { verify: () => Promise<void> }): ReadinessProbe[] => [{ name: 'smtp', check: () => smtp.verify() }],
      },
    });
    expect(probes(modules, [{ verify: async () => undefined }])).toEqual(['database', 'kafka', 'smtp']);
  });

  it('gives every service Idempotency-Key on every POST: the interceptor for the whole app, keys in its database', () => {
    const providers = ServiceKitModule.forRoot({ serviceName: 'svc', config, ormOptions: { dbName: 'x' } }).providers ?? [];
    expect(providers).toContainEqual({ provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor });
    expect(providers).toContainEqual(expect.objectContaining({ provide: IDEMPOTENCY_STORE }));
  });
});
