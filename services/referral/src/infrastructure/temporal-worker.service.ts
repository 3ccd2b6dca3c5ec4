import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createReferralActivities } from '../activities/referral.activities';
import type { ReferralConfig } from '../config';
import { PAYLOAD_CODEC, REFERRAL_CONFIG } from './tokens';
import type { PayloadCodec } from '@temporalio/common';

/**
 * Runs the `second-opinion` Temporal worker in this process. Started after the app has bootstrapped
 * (not inside a provider factory) and drained on shutdown so in-flight activities finish.
 */
@Injectable()
export class TemporalWorkerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TemporalWorkerService.name);
  private worker: Worker | undefined;
  private running: Promise<void> | undefined;
  private connection: NativeConnection | undefined;

  constructor(
    @Inject(REFERRAL_CONFIG) private readonly config: ReferralConfig,
    private readonly orm: MikroORM,
    @Inject(PAYLOAD_CODEC) private readonly codec: PayloadCodec,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.RUN_WORKER) return;
    this.connection = await NativeConnection.connect({ address: this.config.TEMPORAL_ADDRESS });
    this.worker = await Worker.create({
      connection: this.connection,
      namespace: this.config.TEMPORAL_NAMESPACE,
      taskQueue: this.config.TEMPORAL_TASK_QUEUE,
      activities: createReferralActivities(this.orm, {
        name: this.config.PALS_NAME,
        phone: this.config.PALS_PHONE,
        email: this.config.PALS_EMAIL,
        url: this.config.PALS_URL,
      }),
      dataConverter: { payloadCodecs: [this.codec] },
      ...(this.config.WORKFLOW_BUNDLE_PATH
        ? { workflowBundle: { codePath: this.config.WORKFLOW_BUNDLE_PATH } }
        : { workflowsPath: require.resolve('../workflows/index') }),
      shutdownGraceTime: '10 seconds',
    });
    this.running = this.worker.run().catch((e: unknown) => {
      this.logger.error({ err: e }, 'Temporal worker stopped with an error');
      throw e;
    });
    this.logger.log(`Temporal worker polling task queue ${this.config.TEMPORAL_TASK_QUEUE}`);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.worker && this.worker.getState() === 'RUNNING') this.worker.shutdown();
    await this.running?.catch(() => undefined);
    await this.connection?.close();
  }
}
