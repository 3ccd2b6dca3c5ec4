import { Module, type DynamicModule } from '@nestjs/common';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { MikroORM, PostgreSqlDriver } from '@mikro-orm/postgresql';
import { LoggerModule } from 'nestjs-pino';
import { AuthModule, verifierSettingsFrom } from '@sonet/auth';
import { Client } from '@temporalio/client';
import { MessagingModule } from '@sonet/messaging';
import { HealthModule, loggerParams, TemporalClientModule, type ReadinessProbe } from '@sonet/service-kit';
import { MESSAGE_BROKER, type MessageBroker } from '@sonet/messaging';
import { SERVICE_NAME, type ReferralConfig } from './config';
import { referralOrmOptions } from './orm';
import { REFERRAL_CONFIG, TEMPORAL_CLIENT } from './infrastructure/tokens';
import { TemporalWorkerService } from './infrastructure/temporal-worker.service';
import { StartReconcilerService } from './infrastructure/start-reconciler.service';
import { RequestSecondOpinionController } from './request-second-opinion/request-second-opinion.http.controller';
import { RequestSecondOpinionHandler } from './request-second-opinion/request-second-opinion.handler';
import { GetReferralController } from './get-referral/get-referral.http.controller';
import { GetReferralHandler } from './get-referral/get-referral.handler';

@Module({})
export class ReferralAppModule {
  static forRoot(config: ReferralConfig): DynamicModule {
    return {
      module: ReferralAppModule,
      imports: [
        LoggerModule.forRoot(loggerParams(SERVICE_NAME, config.LOG_LEVEL)),
        AuthModule.forRoot(verifierSettingsFrom(config)),
        MikroOrmModule.forRoot({ ...referralOrmOptions(config), driver: PostgreSqlDriver }),
        TemporalClientModule.forRoot({ address: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE }),
        MessagingModule.forRoot({ clientId: SERVICE_NAME, inject: [], brokers: () => config.KAFKA_BROKERS }),
        HealthModule.forRoot({
          inject: [MikroORM, MESSAGE_BROKER, TEMPORAL_CLIENT],
          useFactory: (orm: MikroORM, broker: MessageBroker, temporal: Client): ReadinessProbe[] => [
            { name: 'database', check: async () => void (await orm.em.fork().execute('select 1')) },
            { name: 'kafka', check: () => broker.ping() },
            { name: 'temporal', check: async () => void (await temporal.workflowService.getSystemInfo({})) },
          ],
        }),
      ],
      controllers: [RequestSecondOpinionController, GetReferralController],
      providers: [
        { provide: REFERRAL_CONFIG, useValue: config },
        TemporalWorkerService,
        StartReconcilerService,
        RequestSecondOpinionHandler,
        GetReferralHandler,
      ],
    };
  }
}
