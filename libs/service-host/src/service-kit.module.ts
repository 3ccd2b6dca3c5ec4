import { Module, type DynamicModule, type FactoryProvider, type ModuleMetadata } from '@nestjs/common';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { EntityManager, MikroORM, PostgreSqlDriver, type Options } from '@mikro-orm/postgresql';
import { APP_INTERCEPTOR } from '@nestjs/core';
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { LoggerModule } from 'nestjs-pino';
import { AuthModule, verifierSettingsFrom } from '@sonet/auth';
import { MESSAGE_BROKER, MessagingModule, type MessageBroker } from '@sonet/messaging';
import {
  HealthModule,
  IDEMPOTENCY_STORE,
  IdempotencyInterceptor,
  loggerParams,
  PostgresIdempotencyStore,
  TEMPORAL_CLIENT,
  TemporalClientModule,
  type ReadinessProbe,
} from '@sonet/service-kit';

/** The settings the shared wiring reads; every service's configuration has them (baseConfigSchema). */
export interface ServiceHostConfig {
  readonly LOG_LEVEL: string;
  readonly KAFKA_BROKERS: readonly string[];
  readonly AUTH_ISSUER: string;
  readonly AUTH_AUDIENCE: string;
  readonly AUTH_JWKS_URL?: string | undefined;
  readonly AUTH_JWKS_FILE: string;
}

/** Readiness probes beyond the shared ones, from the service's own providers (e.g. its SMTP transport). */
export interface ExtraReadiness {
  readonly inject: NonNullable<FactoryProvider['inject']>;
  readonly useFactory: (...deps: never[]) => ReadinessProbe[];
}

export interface ServiceKitModuleOptions {
  /** The service's name: the logger's `service`, the Kafka client id. */
  readonly serviceName: string;
  readonly config: ServiceHostConfig;
  /** The service's MikroORM options (entities, migrations, database); the PostgreSQL driver is added here. */
  readonly ormOptions: Options;
  /** A Temporal client (TEMPORAL_CLIENT), for services that run processes; its payloads go through `codec`. */
  readonly temporal?: { readonly address: string; readonly namespace: string; readonly codec: PayloadCodec };
  /** Probes of the service's own dependencies, checked after the database, Kafka and Temporal. */
  readonly readiness?: ExtraReadiness;
  /** Modules the extra probes need (they must export what `readiness.inject` names, e.g. a global channel module). */
  readonly imports?: ModuleMetadata['imports'];
  /** POST routes kept out of the HTTP request log: callbacks whose handler logs each call itself (loggerParams). */
  readonly unloggedPosts?: readonly string[];
}

/**
 * What every service's app module shares, once: logging, bearer-token auth, the ORM, Kafka messaging, an optional
 * Temporal client, /health/live and /health/ready (the database, Kafka, Temporal when there is a client, and
 * the service's own probes), and Idempotency-Key on every POST (keys in the service's `idempotency_key` table,
 * IDEMPOTENCY_SCHEMA_V1, which each service's migrations create). A service's app module imports it and lists
 * only what is its own (ADR 13).
 */
@Module({})
export class ServiceKitModule {
  static forRoot(options: ServiceKitModuleOptions): DynamicModule {
    const { serviceName, config, temporal, readiness } = options;
    const extraInject = readiness?.inject ?? [];
    return {
      module: ServiceKitModule,
      // GP systems and operators' tools retry POSTs on time-outs: a retry with the same key answers the first answer.
      providers: [
        { provide: IDEMPOTENCY_STORE, inject: [EntityManager], useFactory: (em: EntityManager) => new PostgresIdempotencyStore(em) },
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
      ],
      imports: [
        LoggerModule.forRoot(loggerParams(serviceName, config.LOG_LEVEL, options.unloggedPosts)),
        AuthModule.forRoot(verifierSettingsFrom(config)),
        MikroOrmModule.forRoot({ ...options.ormOptions, driver: PostgreSqlDriver }),
        ...(temporal
          ? [
              TemporalClientModule.forRoot({
                address: temporal.address,
                namespace: temporal.namespace,
                dataConverter: { payloadCodecs: [temporal.codec] },
              }),
            ]
          : []),
        MessagingModule.forRoot({ clientId: serviceName, inject: [], brokers: () => [...config.KAFKA_BROKERS] }),
        ...(options.imports ?? []),
        HealthModule.forRoot({
          inject: [MikroORM, MESSAGE_BROKER, ...(temporal ? [TEMPORAL_CLIENT] : []), ...extraInject],
          useFactory: (...deps: unknown[]): ReadinessProbe[] => {
            const [orm, broker] = deps as [MikroORM, MessageBroker];
            const client = temporal ? (deps[2] as Client) : undefined;
            const extra = deps.slice(temporal ? 3 : 2) as never[];
            return [
              { name: 'database', check: async () => void (await orm.em.fork().execute('select 1')) },
              { name: 'kafka', check: () => broker.ping() },
              ...(client ? [{ name: 'temporal', check: async () => void (await client.workflowService.getSystemInfo({})) }] : []),
              ...(readiness ? readiness.useFactory(...extra) : []),
            ];
          },
        }),
      ],
    };
  }
}
