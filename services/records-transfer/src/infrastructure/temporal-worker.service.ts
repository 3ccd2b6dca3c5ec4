import { Inject, Injectable, Optional } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import type { PayloadCodec } from '@temporalio/common';
import { TemporalWorkerHost, workerTarget, type TemporalWorkerSettings } from '@sonet/service-kit';
import { createRecordsTransferActivities } from '../activities/records-transfer.activities';
import type { StreamFaults } from '../activities/send';
import type { HospitalConnectors } from '../connectors/hospital-connectors';
import { HOSPITAL_CONNECTORS, PAYLOAD_CODEC, RECORDS_TRANSFER_CONFIG, STREAM_FAULTS, type RecordsTransferConfig } from '../config';

/** Runs the `records-transfer` Temporal worker in this process (unless RUN_WORKER=false). */
@Injectable()
export class RecordsTransferWorkerService extends TemporalWorkerHost {
  constructor(
    @Inject(RECORDS_TRANSFER_CONFIG) private readonly config: RecordsTransferConfig,
    private readonly orm: MikroORM,
    @Inject(PAYLOAD_CODEC) private readonly codec: PayloadCodec,
    @Inject(HOSPITAL_CONNECTORS) private readonly connectors: HospitalConnectors,
    @Optional() @Inject(STREAM_FAULTS) private readonly faults?: StreamFaults,
  ) {
    super();
  }

  protected workerSettings(): TemporalWorkerSettings | undefined {
    if (!this.config.RUN_WORKER) return undefined;
    return {
      ...workerTarget(this.config),
      activities: createRecordsTransferActivities({
        orm: this.orm,
        connectors: this.connectors,
        lookBackDays: this.config.RECORDS_LOOKBACK_DAYS,
        ...(this.faults ? { faults: this.faults } : {}),
      }),
      codec: this.codec,
      workflowsPath: require.resolve('../workflows/index'),
      // Streams of imaging run long; a few in parallel keep two cores busy without starving the API.
      maxConcurrentActivityTaskExecutions: 8,
    };
  }
}
