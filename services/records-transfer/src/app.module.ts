import { Module, type DynamicModule } from '@nestjs/common';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { MikroORM, PostgreSqlDriver } from '@mikro-orm/postgresql';
import { LoggerModule } from 'nestjs-pino';
import { AuthModule, verifierSettingsFrom } from '@sonet/auth';
import { MESSAGE_BROKER, MessagingModule, type MessageBroker } from '@sonet/messaging';
import { HealthModule, loggerParams, type ReadinessProbe } from '@sonet/service-kit';
import { RECORDS_TRANSFER_CONFIG, SERVICE_NAME, type RecordsTransferConfig } from './config';
import { recordsTransferOrmOptions } from './orm';
import { RecordTransferRequestConsumer } from './record-transfer-request/record-transfer-request.consumer';
import { RecordTransferRequestHandler } from './record-transfer-request/record-transfer-request.handler';
import { GetTransfersController } from './get-transfers/get-transfers.http.controller';
import { CancelTransferConsumer } from './cancel-transfer/cancel-transfer.consumer';
import { CancelTransferHandler } from './cancel-transfer/cancel-transfer.handler';

@Module({})
export class RecordsTransferAppModule {
  static forRoot(config: RecordsTransferConfig): DynamicModule {
    return {
      module: RecordsTransferAppModule,
      imports: [
        LoggerModule.forRoot(loggerParams(SERVICE_NAME, config.LOG_LEVEL)),
        AuthModule.forRoot(verifierSettingsFrom(config)),
        MikroOrmModule.forRoot({ ...recordsTransferOrmOptions(config), driver: PostgreSqlDriver }),
        MessagingModule.forRoot({ clientId: SERVICE_NAME, inject: [], brokers: () => config.KAFKA_BROKERS }),
        HealthModule.forRoot({
          inject: [MikroORM, MESSAGE_BROKER],
          useFactory: (orm: MikroORM, broker: MessageBroker): ReadinessProbe[] => [
            { name: 'database', check: async () => void (await orm.em.fork().execute('select 1')) },
            { name: 'kafka', check: () => broker.ping() },
          ],
        }),
      ],
      controllers: [RecordTransferRequestConsumer, CancelTransferConsumer, GetTransfersController],
      providers: [{ provide: RECORDS_TRANSFER_CONFIG, useValue: config }, RecordTransferRequestHandler, CancelTransferHandler],
    };
  }
}
