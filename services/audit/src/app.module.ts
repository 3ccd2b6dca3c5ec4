import { Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { MikroORM, PostgreSqlDriver } from '@mikro-orm/postgresql';
import { LoggerModule } from 'nestjs-pino';
import { AuthModule, verifierSettingsFrom } from '@sonet/auth';
import { Events } from '@sonet/contracts';
import { KafkaInboxServer, MESSAGE_BROKER, MessagingModule, type MessageBroker } from '@sonet/messaging';
import { HealthModule, kafkaLog, loggerParams, type ReadinessProbe } from '@sonet/service-kit';
import { AUDIT_CONFIG, AUDITED_TOPICS, SERVICE_NAME, type AuditConfig } from './config';
import { auditOrmOptions } from './orm';
import { AuditLog } from './domain/audit-log';
import { RecordEventConsumer } from './record-event/record-event.consumer';
import { RecordEventHandler } from './record-event/record-event.handler';
import { QueryEventsController } from './query-events/query-events.http.controller';
import { QueryEventsHandler } from './query-events/query-events.handler';
import { ReferralTimelineController } from './referral-timeline/referral-timeline.http.controller';
import { ReferralTimelineHandler } from './referral-timeline/referral-timeline.handler';

@Module({})
export class AuditAppModule {
  static forRoot(config: AuditConfig): DynamicModule {
    return {
      module: AuditAppModule,
      imports: [
        LoggerModule.forRoot(loggerParams(SERVICE_NAME, config.LOG_LEVEL)),
        AuthModule.forRoot(verifierSettingsFrom(config)),
        MikroOrmModule.forRoot({ ...auditOrmOptions(config), driver: PostgreSqlDriver }),
        MessagingModule.forRoot({ clientId: SERVICE_NAME, inject: [], brokers: () => config.KAFKA_BROKERS }),
        HealthModule.forRoot({
          inject: [MikroORM, MESSAGE_BROKER],
          useFactory: (orm: MikroORM, broker: MessageBroker): ReadinessProbe[] => [
            { name: 'database', check: async () => void (await orm.em.fork().execute('select 1')) },
            { name: 'kafka', check: () => broker.ping() },
          ],
        }),
      ],
      controllers: [RecordEventConsumer, QueryEventsController, ReferralTimelineController],
      providers: [{ provide: AUDIT_CONFIG, useValue: config }, AuditLog, RecordEventHandler, QueryEventsHandler, ReferralTimelineHandler],
    };
  }
}

/**
 * The Kafka side of the app: every audited topic through the idempotent inbox into the catch-all consumer.
 * Data is not validated against the contracts: audit keeps events as they were sent, including types and
 * versions it does not know (an envelope that is not a CloudEvent still goes to the dead-letter topic).
 */
export const auditInboxServer = (app: INestApplication, config: AuditConfig): KafkaInboxServer =>
  new KafkaInboxServer(app.get(MikroORM), app.get<MessageBroker>(MESSAGE_BROKER), {
    groupId: config.KAFKA_CONSUMER_GROUP,
    topics: AUDITED_TOPICS,
    registry: Events,
    validateData: false,
    log: kafkaLog(SERVICE_NAME),
  });
