import { Module, type DynamicModule } from '@nestjs/common';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { EntityManager, MikroORM, PostgreSqlDriver } from '@mikro-orm/postgresql';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { AuthModule, verifierSettingsFrom } from '@sonet/auth';
import { Client } from '@temporalio/client';
import { MessagingModule } from '@sonet/messaging';
import {
  HealthModule,
  IDEMPOTENCY_STORE,
  IdempotencyInterceptor,
  loggerParams,
  PostgresIdempotencyStore,
  TemporalClientModule,
  type ReadinessProbe,
} from '@sonet/service-kit';
import { MESSAGE_BROKER, type MessageBroker } from '@sonet/messaging';
import { SERVICE_NAME, type ReferralConfig } from './config';
import { referralOrmOptions } from './orm';
import { PAYLOAD_CODEC, REFERRAL_CONFIG, TEMPORAL_CLIENT } from './infrastructure/tokens';
import { AesGcmPayloadCodec, loadPayloadKey } from '@sonet/service-kit';
import { TemporalWorkerService } from './infrastructure/temporal-worker.service';
import { StartReconcilerService } from './infrastructure/start-reconciler.service';
import { RequestSecondOpinionController } from './request-second-opinion/request-second-opinion.http.controller';
import { RequestSecondOpinionHandler } from './request-second-opinion/request-second-opinion.handler';
import { GetReferralController } from './get-referral/get-referral.http.controller';
import { GetReferralHandler } from './get-referral/get-referral.handler';
import { DirectoryModule } from './directory/directory.module';
import { DecisionsController } from './decisions/decisions.http.controller';
import { DecideHandler } from './decisions/decide.handler';
import { RecordsOutcomeConsumer } from './records-outcome/records-outcome.consumer';
import { ListReferralsController } from './list-referrals/list-referrals.http.controller';
import { ListReferralsHandler } from './list-referrals/list-referrals.handler';
import { MarthasRuleController } from './out-of-scope/marthas-rule.http.controller';

@Module({})
export class ReferralAppModule {
  static forRoot(config: ReferralConfig): DynamicModule {
    // One codec for the client (decisions, queries) and the worker: both must read what the other wrote.
    const codec = new AesGcmPayloadCodec(loadPayloadKey(config));
    return {
      module: ReferralAppModule,
      imports: [
        LoggerModule.forRoot(loggerParams(SERVICE_NAME, config.LOG_LEVEL)),
        AuthModule.forRoot(verifierSettingsFrom(config)),
        MikroOrmModule.forRoot({ ...referralOrmOptions(config), driver: PostgreSqlDriver }),
        TemporalClientModule.forRoot({
          address: config.TEMPORAL_ADDRESS,
          namespace: config.TEMPORAL_NAMESPACE,
          dataConverter: { payloadCodecs: [codec] },
        }),
        MessagingModule.forRoot({ clientId: SERVICE_NAME, inject: [], brokers: () => config.KAFKA_BROKERS }),
        HealthModule.forRoot({
          inject: [MikroORM, MESSAGE_BROKER, TEMPORAL_CLIENT],
          useFactory: (orm: MikroORM, broker: MessageBroker, temporal: Client): ReadinessProbe[] => [
            { name: 'database', check: async () => void (await orm.em.fork().execute('select 1')) },
            { name: 'kafka', check: () => broker.ping() },
            { name: 'temporal', check: async () => void (await temporal.workflowService.getSystemInfo({})) },
          ],
        }),
        DirectoryModule,
      ],
      controllers: [RequestSecondOpinionController, ListReferralsController, GetReferralController, DecisionsController, RecordsOutcomeConsumer, MarthasRuleController],
      providers: [
        { provide: REFERRAL_CONFIG, useValue: config },
        { provide: PAYLOAD_CODEC, useValue: codec },
        // GP systems retry POSTs on time-outs: Idempotency-Key makes a retry answer the first request's answer.
        { provide: IDEMPOTENCY_STORE, inject: [EntityManager], useFactory: (em: EntityManager) => new PostgresIdempotencyStore(em) },
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
        TemporalWorkerService,
        StartReconcilerService,
        RequestSecondOpinionHandler,
        GetReferralHandler,
        DecideHandler,
        ListReferralsHandler,
      ],
    };
  }
}
