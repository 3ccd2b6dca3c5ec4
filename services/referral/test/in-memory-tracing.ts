// Imported first by a spec: OpenTelemetry starts before the service's modules load, then patches `http` by hand
// (in Jest the instrumentation's require hook never fires).
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { instrumentHttpNow, startTracing } from '@sonet/observability';

export const spanExporter = new InMemorySpanExporter();
startTracing('referral', 'test', [new SimpleSpanProcessor({ exporter: spanExporter })]);
instrumentHttpNow();
