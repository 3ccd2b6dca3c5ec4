import { Inject, Injectable } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import type { PayloadCodec } from '@temporalio/common';
import { palsContactOf, TemporalWorkerHost, workerTarget, type TemporalWorkerSettings } from '@sonet/service-kit';
import { createReferralActivities } from '../activities/referral.activities';
import type { ReferralConfig } from '../config';
import { ReferralKeyStore } from '../referral-keys/referral-key-store';
import { PAYLOAD_CODEC, REFERRAL_CONFIG } from './tokens';
import { PostgresActivityFailureSink } from '../operations/operations-watch';

/** Runs the `second-opinion` Temporal worker in this process (unless RUN_WORKER=false). */
@Injectable()
export class TemporalWorkerService extends TemporalWorkerHost {
  constructor(
    @Inject(REFERRAL_CONFIG) private readonly config: ReferralConfig,
    private readonly orm: MikroORM,
    @Inject(PAYLOAD_CODEC) private readonly codec: PayloadCodec,
    private readonly keys: ReferralKeyStore,
  ) {
    super();
  }

  protected workerSettings(): TemporalWorkerSettings | undefined {
    if (!this.config.RUN_WORKER) return undefined;
    return {
      ...workerTarget(this.config),
      activities: createReferralActivities(this.orm, palsContactOf(this.config), this.keys),
      codec: this.codec,
      workflowsPath: require.resolve('../workflows/index'),
      maxCachedWorkflows: this.config.TEMPORAL_MAX_CACHED_WORKFLOWS,
      activityFailures: new PostgresActivityFailureSink(this.orm),
    };
  }
}
