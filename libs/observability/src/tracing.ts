import { NodeSDK } from '@opentelemetry/sdk-node';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { RuntimeNodeInstrumentation } from '@opentelemetry/instrumentation-runtime-node';
import { sanitizeSqlText } from './sql-text';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { BatchSpanProcessor, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { AggregationType } from '@opentelemetry/sdk-metrics';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { metricsReader } from './metrics';
import { LegacyWorkflowSpanProcessor } from './workflow-spans';

let sdk: NodeSDK | undefined;
let httpInstrumentation: HttpInstrumentation | undefined;
let processors: SpanProcessor[] = [];
let resource: Resource = resourceFromAttributes({});

/** Where spans go: an OTLP/HTTP collector (OTEL_EXPORTER_OTLP_ENDPOINT) and/or Zipkin (OTEL_EXPORTER_ZIPKIN_ENDPOINT). */
function exportingProcessors(): SpanProcessor[] {
  const out: SpanProcessor[] = [];
  if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT) out.push(new BatchSpanProcessor({ exporter: new OTLPTraceExporter() }));
  if (process.env.OTEL_EXPORTER_ZIPKIN_ENDPOINT) out.push(new BatchSpanProcessor({ exporter: new ZipkinExporter() }));
  return out;
}

/**
 * Starts OpenTelemetry (traces and metrics) for a service process. Kafka is deliberately not auto-instrumented:
 * events carry the trace context captured when they were written to the outbox, and the kafkajs instrumentation
 * would replace it with the relay's own context when publishing; libs/messaging propagates context itself. Must
 * run before the instrumented libraries load (the preload does it). Without an exporter configured, context still
 * propagates (trace ids in logs and Kafka headers) but nothing is exported. Metrics are read by the service's
 * `/metrics` route (Prometheus text).
 */
export function startTracing(serviceName: string, version = '0.1.0', extra: SpanProcessor[] = []): void {
  if (sdk) return;
  processors = [...extra, ...exportingProcessors()];
  // With no processor the SDK installs no tracer provider at all, and every span (and trace id in logs and
  // Kafka headers) would be the invalid all-zero one. A no-op processor keeps real, propagated trace ids.
  if (processors.length === 0) processors.push(new NoopSpanProcessor());
  resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName, [ATTR_SERVICE_VERSION]: version });
  httpInstrumentation = new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => /^\/(health|metrics)/.test(req.url ?? '') });
  sdk = new NodeSDK({
    resource,
    spanProcessors: processors,
    metricReaders: [metricsReader()],
    // The HTTP instrumentation's own metrics have no route (it cannot see Fastify's): libs/service-kit records
    // http.server.request.duration with the route instead.
    views: [{ meterName: '@opentelemetry/instrumentation-http', aggregation: { type: AggregationType.DROP } }],
    instrumentations: [
      httpInstrumentation,
      // The process's own health on /metrics: event-loop delay and utilisation, V8 heap by space, GC pauses.
      new RuntimeNodeInstrumentation({ monitoringPrecision: 5_000 }),
      new PgInstrumentation({
        enhancedDatabaseReporting: false,
        // Only statements made for something traced (a request, a consumed event, a workflow step) are spans; the
        // outbox relay's and the dispatcher's polls, probes and metrics would otherwise each be a trace of their own.
        requireParentSpan: true,
        // Statements carry their values inline (MikroORM): spans keep only their shape (no patient data in traces).
        requestHook: (span, { query }) => {
          if (!span.isRecording()) return; // sampled out: nothing would keep the text
          const text = sanitizeSqlText(query.text);
          span.setAttribute('db.query.text', text);
          span.setAttribute('db.statement', text);
        },
      }),
    ],
  });
  sdk.start();
}

/**
 * Patches Node's `http` at once. For Jest only: its module registry hands the instrumentation's require hook a
 * stand-in `module`, so the hook never fires there; services rely on the hook (and the preload).
 */
export function instrumentHttpNow(): void {
  for (const def of httpInstrumentation?.getModuleDefinitions() ?? []) {
    if (def.name === 'http') def.moduleExports = def.patch?.(process.getBuiltinModule('node:http'), process.versions.node);
  }
}

export async function stopTracing(): Promise<void> {
  await sdk?.shutdown();
  sdk = undefined;
  processors = [];
}

/**
 * What Temporal's workflow span sink needs (`makeWorkflowExporter(processor, resource)`): workflow spans are
 * made inside the sandbox and handed over ended; they go to this process's processors, mapped to the 3.x shape.
 */
export function workflowSpanExport(): { processor: SpanProcessor; resource: Resource } {
  return { processor: new LegacyWorkflowSpanProcessor(() => processors), resource };
}
