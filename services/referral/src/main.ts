// Tracing is started by the preload (node --import dist/libs/observability/src/register.js), before any library loads.
import { createServiceApp } from '@sonet/service-kit';
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
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 'fatal', service: 'referral', msg: 'failed to start', err: String((e as Error)?.stack ?? e) })}\n`);
  process.exit(1);
});
