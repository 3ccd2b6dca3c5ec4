import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import type { PayloadCodec } from '@temporalio/common';
import { palsContactOf, TemporalWorkerRunner } from '@sonet/service-kit';
import { createReferralActivities } from '../activities/referral.activities';
import type { ReferralConfig } from '../config';
import { ReferralKeyStore } from '../referral-keys/referral-key-store';
import { PAYLOAD_CODEC, REFERRAL_CONFIG } from './tokens';

/** Runs the `second-opinion` Temporal worker in this process (unless RUN_WORKER=false). */
@Injectable()
export class TemporalWorkerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly runner = new TemporalWorkerRunner();

  constructor(
    @Inject(REFERRAL_CONFIG) private readonly config: ReferralConfig,
    private readonly orm: MikroORM,
    @Inject(PAYLOAD_CODEC) private readonly codec: PayloadCodec,
    private readonly keys: ReferralKeyStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.RUN_WORKER) return;
    await this.runner.start({
      address: this.config.TEMPORAL_ADDRESS,
      namespace: this.config.TEMPORAL_NAMESPACE,
      taskQueue: this.config.TEMPORAL_TASK_QUEUE,
      activities: createReferralActivities(this.orm, palsContactOf(this.config), this.keys),
      codec: this.codec,
      workflowBundlePath: this.config.WORKFLOW_BUNDLE_PATH,
      workflowsPath: require.resolve('../workflows/index'),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.stop();
  }
}
