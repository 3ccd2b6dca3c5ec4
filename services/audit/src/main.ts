// Tracing is started by the preload (node --import dist/libs/observability/src/register.js), before any library loads.
import { createServiceApp } from '@sonet/service-kit';
import { AuditAppModule, auditInboxServer } from './app.module';
import { readAuditConfig, SERVICE_NAME } from './config';

async function main(): Promise<void> {
  const config = readAuditConfig();
  await createServiceApp({
    module: AuditAppModule.forRoot(config),
    host: config.HTTP_HOST,
    port: config.HTTP_PORT,
    openApi: { title: 'Audit API', description: 'The append-only log of every event of the network.', version: '1' },
    transport: (app) => auditInboxServer(app, config),
  });
}

main().catch((e: unknown) => {
  process.stderr.write(
    `${JSON.stringify({ level: 'fatal', service: SERVICE_NAME, msg: 'failed to start', err: String((e as Error)?.stack ?? e) })}\n`,
  );
  process.exit(1);
});
