// Tracing is started by the preload (node --import dist/libs/observability/src/register.js), before any library loads.
import { MikroORM } from '@mikro-orm/postgresql';
import { Events, Topics } from '@sonet/contracts';
import { KafkaInboxServer, MESSAGE_BROKER, type MessageBroker } from '@sonet/messaging';
import { createServiceApp, kafkaLog } from '@sonet/service-kit';
import { RecordsTransferAppModule } from './app.module';
import { readRecordsTransferConfig, SERVICE_NAME } from './config';

async function main(): Promise<void> {
  const config = readRecordsTransferConfig();
  await createServiceApp({
    module: RecordsTransferAppModule.forRoot(config),
    host: config.HTTP_HOST,
    port: config.HTTP_PORT,
    openApi: { title: 'Records transfer API', description: 'Transfers of results and imaging between organisations.', version: '1' },
    transport: (app) =>
      new KafkaInboxServer(app.get(MikroORM), app.get<MessageBroker>(MESSAGE_BROKER), {
        groupId: config.KAFKA_CONSUMER_GROUP,
        topics: [Topics.recordsCommands],
        registry: Events,
        log: kafkaLog(SERVICE_NAME),
      }),
  });
}

main().catch((e: unknown) => {
  process.stderr.write(
    `${JSON.stringify({ level: 'fatal', service: SERVICE_NAME, msg: 'failed to start', err: String((e as Error)?.stack ?? e) })}\n`,
  );
  process.exit(1);
});
