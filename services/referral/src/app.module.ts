import { Module, type DynamicModule } from '@nestjs/common';
import { AesGcmPayloadCodec, loadPayloadKey, loadSecretKey } from '@sonet/service-kit';
import { ServiceKitModule } from '@sonet/service-host';
import { SERVICE_NAME, type ReferralConfig } from './config';
import { referralOrmOptions } from './orm';
import { PAYLOAD_CODEC, REFERRAL_CONFIG } from './infrastructure/tokens';
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
import { ReferralMetrics } from './metrics/referral.metrics';
import { operationsController, operationsProviders } from './operations/operations.module';
import { NotificationOutcomeConsumer } from './operations/notification-outcome.consumer';
import { ReferralKeyStore } from './referral-keys/referral-key-store';
import { ReferralKeysController } from './referral-keys/referral-keys.http.controller';

@Module({})
export class ReferralAppModule {
  static forRoot(config: ReferralConfig): DynamicModule {
    // One codec for the client (decisions, queries) and the worker: both must read what the other wrote.
    const codec = new AesGcmPayloadCodec(loadPayloadKey(config));
    return {
      module: ReferralAppModule,
      imports: [
        ServiceKitModule.forRoot({
          serviceName: SERVICE_NAME,
          config,
          ormOptions: referralOrmOptions(config),
          temporal: { address: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE, codec },
        }),
        DirectoryModule.register(config.DIRECTORY_CACHE_TTL_MS),
      ],
      controllers: [
        RequestSecondOpinionController,
        ListReferralsController,
        GetReferralController,
        DecisionsController,
        RecordsOutcomeConsumer,
        NotificationOutcomeConsumer,
        MarthasRuleController,
        operationsController,
        ReferralKeysController,
      ],
      providers: [
        { provide: REFERRAL_CONFIG, useValue: config },
        { provide: PAYLOAD_CODEC, useValue: codec },
        // Wraps every referral's data key (ADR 14); the key-encryption key itself is never logged.
        {
          provide: ReferralKeyStore,
          useFactory: () =>
            new ReferralKeyStore(
              loadSecretKey({ name: 'REFERRAL_KEK', value: config.REFERRAL_KEK, file: config.REFERRAL_KEK_FILE, nodeEnv: config.NODE_ENV }),
            ),
        },
        TemporalWorkerService,
        StartReconcilerService,
        RequestSecondOpinionHandler,
        GetReferralHandler,
        DecideHandler,
        ListReferralsHandler,
        ReferralMetrics,
        ...operationsProviders,
      ],
    };
  }
}
