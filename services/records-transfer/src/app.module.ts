import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { LoggerModule } from 'nestjs-pino';
import { AesGcmPayloadCodec, loadPayloadKey, loggerParams } from '@sonet/service-kit';
import { sealedFieldOpenerProvider, ServiceKitModule } from '@sonet/service-host';
import {
  HOSPITAL_CONNECTORS,
  PAYLOAD_CODEC,
  RECORDS_TRANSFER_CONFIG,
  SERVICE_NAME,
  STREAM_FAULTS,
  type RecordsTransferConfig,
} from './config';
import { recordsTransferOrmOptions } from './orm';
import { readConnectorsConfig } from './connectors/config';
import { HospitalConnectors } from './connectors/hospital-connectors';
import type { StreamFaults } from './activities/send';
import { RecordTransferRequestConsumer } from './record-transfer-request/record-transfer-request.consumer';
import { RecordTransferRequestHandler } from './record-transfer-request/record-transfer-request.handler';
import { GetTransfersController } from './get-transfers/get-transfers.http.controller';
import { CancelTransferConsumer } from './cancel-transfer/cancel-transfer.consumer';
import { CancelTransferHandler } from './cancel-transfer/cancel-transfer.handler';
import { ReviewManifestController } from './review-manifest/review-manifest.http.controller';
import { RetryTransferController } from './retry-transfer/retry-transfer.http.controller';
import { TransferStarter } from './infrastructure/transfer-starter';
import { RecordsTransferWorkerService } from './infrastructure/temporal-worker.service';
import { RecordsTransferMetrics } from './metrics/records-transfer.metrics';

/** What the Temporal worker needs, shared by the whole service and a worker-only process (src/worker.ts). */
function workerProviders(config: RecordsTransferConfig, codec: AesGcmPayloadCodec, faults?: StreamFaults): Provider[] {
  const connectors = new HospitalConnectors(
    readConnectorsConfig({ json: config.RECORDS_CONNECTORS_JSON, file: config.RECORDS_CONNECTORS_FILE }),
  );
  return [
    { provide: RECORDS_TRANSFER_CONFIG, useValue: config },
    { provide: PAYLOAD_CODEC, useValue: codec },
    { provide: HOSPITAL_CONNECTORS, useValue: connectors },
    ...(faults ? [{ provide: STREAM_FAULTS, useValue: faults }] : []),
    RecordsTransferWorkerService,
  ];
}

/** A process that only runs the transfer worker (no HTTP, no Kafka): scale it apart from the API. */
@Module({})
export class RecordsTransferWorkerModule {
  static forRoot(config: RecordsTransferConfig): DynamicModule {
    const codec = new AesGcmPayloadCodec(loadPayloadKey(config));
    return {
      module: RecordsTransferWorkerModule,
      imports: [
        LoggerModule.forRoot(loggerParams(SERVICE_NAME, config.LOG_LEVEL)),
        MikroOrmModule.forRoot({ ...recordsTransferOrmOptions(config), driver: PostgreSqlDriver }),
      ],
      providers: workerProviders(config, codec),
    };
  }
}

@Module({})
export class RecordsTransferAppModule {
  /** `faults` is for the fault tests only: it damages bytes on their way to the target. */
  static forRoot(config: RecordsTransferConfig, options: { faults?: StreamFaults } = {}): DynamicModule {
    // One codec for the client and the worker: both must read what the other wrote.
    const codec = new AesGcmPayloadCodec(loadPayloadKey(config));
    return {
      module: RecordsTransferAppModule,
      imports: [
        ServiceKitModule.forRoot({
          serviceName: SERVICE_NAME,
          config,
          ormOptions: recordsTransferOrmOptions(config),
          temporal: { address: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE, codec },
        }),
      ],
      controllers: [
        RecordTransferRequestConsumer,
        CancelTransferConsumer,
        GetTransfersController,
        ReviewManifestController,
        RetryTransferController,
      ],
      providers: [
        ...workerProviders(config, codec, options.faults),
        sealedFieldOpenerProvider(SERVICE_NAME, config),
        TransferStarter,
        RecordTransferRequestHandler,
        CancelTransferHandler,
        RecordsTransferMetrics,
      ],
    };
  }
}
