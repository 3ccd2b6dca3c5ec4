import { Inject, Injectable, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import type { PayloadCodec } from '@temporalio/common';
import { TemporalWorkerRunner } from '@sonet/service-kit';
import { createRecordsTransferActivities } from '../activities/records-transfer.activities';
import type { StreamFaults } from '../activities/send';
import type { HospitalConnectors } from '../connectors/hospital-connectors';
import { HOSPITAL_CONNECTORS, PAYLOAD_CODEC, RECORDS_TRANSFER_CONFIG, STREAM_FAULTS, type RecordsTransferConfig } from '../config';

/** Runs the `records-transfer` Temporal worker in this process (unless RUN_WORKER=false). */
@Injectable()
export class RecordsTransferWorkerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly runner = new TemporalWorkerRunner();

  constructor(
    @Inject(RECORDS_TRANSFER_CONFIG) private readonly config: RecordsTransferConfig,
    private readonly orm: MikroORM,
    @Inject(PAYLOAD_CODEC) private readonly codec: PayloadCodec,
    @Inject(HOSPITAL_CONNECTORS) private readonly connectors: HospitalConnectors,
    @Optional() @Inject(STREAM_FAULTS) private readonly faults?: StreamFaults,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.RUN_WORKER) return;
    await this.runner.start({
      address: this.config.TEMPORAL_ADDRESS,
      namespace: this.config.TEMPORAL_NAMESPACE,
      taskQueue: this.config.TEMPORAL_TASK_QUEUE,
      activities: createRecordsTransferActivities({
        orm: this.orm,
        connectors: this.connectors,
        lookBackDays: this.config.RECORDS_LOOKBACK_DAYS,
        ...(this.faults ? { faults: this.faults } : {}),
      }),
      codec: this.codec,
      workflowBundlePath: this.config.WORKFLOW_BUNDLE_PATH,
      workflowsPath: require.resolve('../workflows/index'),
      // Streams of imaging run long; a few in parallel keep two cores busy without starving the API.
      maxConcurrentActivityTaskExecutions: 8,
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.stop();
  }
}
