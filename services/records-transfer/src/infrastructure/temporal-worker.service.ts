import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { PayloadCodec } from '@temporalio/common';
import { createRecordsTransferActivities } from '../activities/records-transfer.activities';
import type { StreamFaults } from '../activities/send';
import type { HospitalConnectors } from '../connectors/hospital-connectors';
import { HOSPITAL_CONNECTORS, PAYLOAD_CODEC, RECORDS_TRANSFER_CONFIG, STREAM_FAULTS, type RecordsTransferConfig } from '../config';

/** Runs the `records-transfer` Temporal worker in this process; drained on shutdown so in-flight items finish or heartbeat out. */
@Injectable()
export class RecordsTransferWorkerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RecordsTransferWorkerService.name);
  private worker: Worker | undefined;
  private running: Promise<void> | undefined;
  private connection: NativeConnection | undefined;

  constructor(
    @Inject(RECORDS_TRANSFER_CONFIG) private readonly config: RecordsTransferConfig,
    private readonly orm: MikroORM,
    @Inject(PAYLOAD_CODEC) private readonly codec: PayloadCodec,
    @Inject(HOSPITAL_CONNECTORS) private readonly connectors: HospitalConnectors,
    @Optional() @Inject(STREAM_FAULTS) private readonly faults?: StreamFaults,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.RUN_WORKER) return;
    this.connection = await NativeConnection.connect({ address: this.config.TEMPORAL_ADDRESS });
    this.worker = await Worker.create({
      connection: this.connection,
      namespace: this.config.TEMPORAL_NAMESPACE,
      taskQueue: this.config.TEMPORAL_TASK_QUEUE,
      activities: createRecordsTransferActivities({
        orm: this.orm,
        connectors: this.connectors,
        lookBackDays: this.config.RECORDS_LOOKBACK_DAYS,
        ...(this.faults ? { faults: this.faults } : {}),
      }),
      dataConverter: { payloadCodecs: [this.codec] },
      ...(this.config.WORKFLOW_BUNDLE_PATH
        ? { workflowBundle: { codePath: this.config.WORKFLOW_BUNDLE_PATH } }
        : { workflowsPath: require.resolve('../workflows/index') }),
      // Streams of imaging run long; a few in parallel keep two cores busy without starving the API.
      maxConcurrentActivityTaskExecutions: 8,
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
