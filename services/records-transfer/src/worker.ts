// A worker-only process: runs the records-transfer Temporal worker without the HTTP API or the Kafka consumer
// (the API replicas start transfers; these move the bytes). Tracing is started by the preload, as for main.js.
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { RecordsTransferWorkerModule } from './app.module';
import { readRecordsTransferConfig, SERVICE_NAME } from './config';

async function main(): Promise<void> {
  const config = readRecordsTransferConfig();
  const app = await NestFactory.createApplicationContext(RecordsTransferWorkerModule.forRoot(config), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  await app.init();
}

main().catch((e: unknown) => {
  process.stderr.write(
    `${JSON.stringify({ level: 'fatal', service: SERVICE_NAME, msg: 'worker failed to start', err: String((e as Error)?.stack ?? e) })}\n`,
  );
  process.exit(1);
});
