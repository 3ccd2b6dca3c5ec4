import { Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { Events } from '@sonet/contracts';
import { KafkaBatchInboxServer, MESSAGE_BROKER, type MessageBroker } from '@sonet/messaging';
import { kafkaLog } from '@sonet/service-kit';
import { sealedFieldOpenerProvider, ServiceKitModule } from '@sonet/service-host';
import { AUDIT_CONFIG, AUDITED_TOPICS, SERVICE_NAME, type AuditConfig } from './config';
import { auditOrmOptions } from './orm';
import { AUDIT_LOG_SETTINGS, AuditLog, type AuditLogSettings } from './domain/audit-log';
import { CheckpointKeyring, CheckpointSigner } from './domain/checkpoint';
import { PatientKeyer } from './domain/patient-identifiers';
import { keyerFrom, keyringFrom, signerFrom } from './domain/keys';
import { CheckpointLog } from './infrastructure/checkpoint-log';
import { CheckpointService } from './checkpoints/checkpoint.service';
import { RecordEventConsumer } from './record-event/record-event.consumer';
import { RecordEventHandler } from './record-event/record-event.handler';
import { QueryEventsController } from './query-events/query-events.http.controller';
import { QueryEventsHandler } from './query-events/query-events.handler';
import { ReferralTimelineController } from './referral-timeline/referral-timeline.http.controller';
import { ReferralTimelineHandler } from './referral-timeline/referral-timeline.handler';
import { VerifyLogController } from './verify-log/verify-log.http.controller';
import { VerifyLogHandler } from './verify-log/verify-log.handler';
import { ExportEvidenceController } from './export-evidence/export-evidence.http.controller';
import { ExportEvidenceHandler } from './export-evidence/export-evidence.handler';
import { AuditMetrics } from './metrics/audit.metrics';

@Module({})
export class AuditAppModule {
  static forRoot(config: AuditConfig): DynamicModule {
    const signer = signerFrom(config);
    const keyer = keyerFrom(config);
    const settings: AuditLogSettings = { chain: config.AUDIT_CHAIN, checkpointEvery: config.AUDIT_CHECKPOINT_EVERY_ENTRIES, keyer, signer };
    return {
      module: AuditAppModule,
      imports: [ServiceKitModule.forRoot({ serviceName: SERVICE_NAME, config, ormOptions: auditOrmOptions(config) })],
      controllers: [RecordEventConsumer, QueryEventsController, ReferralTimelineController, VerifyLogController, ExportEvidenceController],
      providers: [
        { provide: AUDIT_CONFIG, useValue: config },
        sealedFieldOpenerProvider(SERVICE_NAME, config),
        { provide: AUDIT_LOG_SETTINGS, useValue: settings },
        { provide: CheckpointSigner, useValue: signer },
        { provide: CheckpointKeyring, useValue: keyringFrom(config, signer) },
        { provide: PatientKeyer, useValue: keyer },
        { provide: CheckpointLog, useValue: new CheckpointLog(config.AUDIT_CHECKPOINT_LOG_FILE) },
        AuditLog,
        CheckpointService,
        RecordEventHandler,
        QueryEventsHandler,
        ReferralTimelineHandler,
        VerifyLogHandler,
        AuditMetrics,
        ExportEvidenceHandler,
      ],
    };
  }
}

/**
 * The Kafka side of the app: every audited topic, a partition's batch at a time, through the idempotent inbox
 * into the chain. Data is not validated against the contracts: audit keeps events as they were sent, including
 * types and versions it does not know (an envelope that is not a CloudEvent still goes to the dead-letter topic).
 */
export const auditInboxServer = (app: INestApplication, config: AuditConfig): KafkaBatchInboxServer =>
  new KafkaBatchInboxServer(app.get(MikroORM), app.get<MessageBroker>(MESSAGE_BROKER), {
    groupId: config.KAFKA_CONSUMER_GROUP,
    topics: AUDITED_TOPICS,
    registry: Events,
    validateData: false,
    maxBatchSize: config.AUDIT_INGEST_BATCH_SIZE,
    log: kafkaLog(SERVICE_NAME),
  });
