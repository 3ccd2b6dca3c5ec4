import { NodeSDK } from '@opentelemetry/sdk-node';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchSpanProcessor, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

let sdk: NodeSDK | undefined;

/**
 * Starts OpenTelemetry for a service process. Kafka is deliberately not auto-instrumented: events carry the
 * trace context captured when they were written to the outbox, and the kafkajs instrumentation would replace
 * it with the relay's own context when publishing; libs/messaging propagates context itself. Must run before the instrumented libraries load
 * (the service's `main` imports this first). Spans go to an OTLP/HTTP collector when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set; without it, context still propagates (trace ids in logs
 * and Kafka headers) but nothing is exported.
 */
export function startTracing(serviceName: string, version = '0.1.0', extra: SpanProcessor[] = []): void {
  if (sdk) return;
  const processors: SpanProcessor[] = [...extra];
  if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT) processors.push(new BatchSpanProcessor({ exporter: new OTLPTraceExporter() }));
  // With no processor the SDK installs no tracer provider at all, and every span (and trace id in logs and
  // Kafka headers) would be the invalid all-zero one. A no-op processor keeps real, propagated trace ids.
  if (processors.length === 0) processors.push(new NoopSpanProcessor());
  sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName, [ATTR_SERVICE_VERSION]: version }),
    spanProcessors: processors,
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => (req.url ?? '').startsWith('/health') }),
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
    ],
  });
  sdk.start();
}

export async function stopTracing(): Promise<void> {
  await sdk?.shutdown();
  sdk = undefined;
}
