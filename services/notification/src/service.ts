import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MikroORM } from '@mikro-orm/postgresql';
import { Events, Topics } from '@sonet/contracts';
import { KafkaInboxServer, MESSAGE_BROKER, type MessageBroker } from '@sonet/messaging';
import { createServiceApp, kafkaLog } from '@sonet/service-kit';
import { NotificationAppModule } from './app.module';
import { SERVICE_NAME, type NotificationConfig } from './config';

/** Boots the HTTP API, the referral-events consumer and the dispatcher; used by main and by integration tests. */
export function startNotificationService(config: NotificationConfig): Promise<NestFastifyApplication> {
  return createServiceApp({
    module: NotificationAppModule.forRoot(config),
    host: config.HTTP_HOST,
    port: config.HTTP_PORT,
    openApi: {
      title: 'Notification API',
      description: 'Patient and clinician notifications about second-opinion referrals: delivery status for operations.',
      version: '1',
    },
    transport: (app) =>
      new KafkaInboxServer(app.get(MikroORM), app.get<MessageBroker>(MESSAGE_BROKER), {
        groupId: config.KAFKA_CONSUMER_GROUP,
        // Referral events, and the records-transfer events someone must be told about (gaps).
        topics: [config.REFERRAL_EVENTS_TOPIC, Topics.recordsEvents],
        registry: Events,
        recordsConcurrently: config.KAFKA_RECORDS_CONCURRENTLY,
        recordsPerTransaction: config.KAFKA_RECORDS_PER_TRANSACTION,
        log: kafkaLog(SERVICE_NAME),
      }),
  });
}
