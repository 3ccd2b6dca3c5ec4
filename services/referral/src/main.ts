// Tracing is started by the preload (node --import dist/libs/observability/src/register.js), before any library loads.
import { MikroORM } from '@mikro-orm/postgresql';
import { Events, Topics } from '@sonet/contracts';
import { KafkaInboxServer, MESSAGE_BROKER, type MessageBroker } from '@sonet/messaging';
import { createServiceApp, kafkaLog } from '@sonet/service-kit';
import { ReferralAppModule } from './app.module';
import { readReferralConfig } from './config';

async function main(): Promise<void> {
  const config = readReferralConfig();
  await createServiceApp({
    module: ReferralAppModule.forRoot(config),
    host: config.HTTP_HOST,
    port: config.HTTP_PORT,
    openApi: {
      title: 'Second-opinion referral API',
      description: 'Record and follow second-opinion referrals (GP, patient, clinical teams).',
      version: '1',
    },
    // Records-transfer outcomes, turned into signals to the referral's workflow; notifications given up on (stuck list).
    transport: (app) =>
      new KafkaInboxServer(app.get(MikroORM), app.get<MessageBroker>(MESSAGE_BROKER), {
        groupId: config.KAFKA_CONSUMER_GROUP,
        topics: [Topics.recordsEvents, Topics.notificationEvents],
        // A notification outcome is a row of the stuck list: many of them in one transaction. A records outcome signals
        // a workflow, an effect outside the database: one per transaction, never repeated by a group's retry.
        recordsPerTransaction: config.KAFKA_RECORDS_PER_TRANSACTION,
        groupedTopics: [Topics.notificationEvents],
        registry: Events,
        log: kafkaLog('referral'),
      }),
  });
}

main().catch((e: unknown) => {
  process.stderr.write(
    `${JSON.stringify({ level: 'fatal', service: 'referral', msg: 'failed to start', err: String((e as Error)?.stack ?? e) })}\n`,
  );
  process.exit(1);
});
