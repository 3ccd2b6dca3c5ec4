// Tracing is started by the preload (node --import dist/libs/observability/src/register.js), before any library loads.
import { readNotificationConfig, SERVICE_NAME } from './config';
import { startNotificationService } from './service';

async function main(): Promise<void> {
  await startNotificationService(readNotificationConfig());
}

main().catch((e: unknown) => {
  process.stderr.write(
    `${JSON.stringify({ level: 'fatal', service: SERVICE_NAME, msg: 'failed to start', err: String((e as Error)?.stack ?? e) })}\n`,
  );
  process.exit(1);
});
