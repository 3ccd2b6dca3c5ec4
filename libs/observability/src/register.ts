// Preload for service processes: `node --import ./dist/libs/observability/src/register.js dist/services/<svc>/src/main.js`.
// It must run before any instrumented library loads: NestJS imports Fastify and kafkajs through ESM `import()`,
// which only the ESM loader hook (import-in-the-middle) sees; CommonJS `require` is patched by require-in-the-middle.
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { flushOnShutdown } from './shutdown';
import { startTracing, stopTracing } from './tracing';

register('@opentelemetry/instrumentation/hook.mjs', pathToFileURL(__filename));
startTracing(process.env.OTEL_SERVICE_NAME ?? 'sonet');
// Buffered spans are exported before the process ends, after the app's own shutdown.
flushOnShutdown(stopTracing);
