import { SpanKind, TraceFlags } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { fromLegacySpan, LegacyWorkflowSpanProcessor, type LegacyReadableSpan } from './workflow-spans';

const traceId = '0af7651916cd43dd8448eb211c80319c';
const legacySpan = (parentSpanId?: string): LegacyReadableSpan => ({
  name: 'RunWorkflow:secondOpinionWorkflow',
  kind: SpanKind.SERVER,
  spanContext: () => ({ traceId, spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED }),
  ...(parentSpanId ? { parentSpanId } : {}),
  startTime: [1, 0],
  endTime: [2, 0],
  status: { code: 0 },
  attributes: { runId: 'r1' },
  links: [],
  events: [],
  duration: [1, 0],
  ended: true,
  resource: resourceFromAttributes({ 'service.name': 'referral' }),
  instrumentationLibrary: { name: '@temporalio/interceptor-workflow', version: '1.24.0' },
  droppedAttributesCount: 0,
  droppedEventsCount: 0,
  droppedLinksCount: 0,
});

describe('workflow spans from the 1.x interceptor', () => {
  it('name their parent by a span context of the same trace and their scope as instrumentationScope', () => {
    const span = fromLegacySpan(legacySpan('00f067aa0ba902b7'));
    expect(span.parentSpanContext).toEqual({ traceId, spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED, isRemote: true });
    expect(span.instrumentationScope).toEqual({ name: '@temporalio/interceptor-workflow', version: '1.24.0' });
    expect(span.spanContext().spanId).toBe('b7ad6b7169203331');
    expect(span).not.toHaveProperty('parentSpanId');
    expect(span).not.toHaveProperty('instrumentationLibrary');
  });

  it('a root span keeps no parent', () => {
    expect(fromLegacySpan(legacySpan()).parentSpanContext).toBeUndefined();
  });

  it('reach the 3.x exporter through the service processors, readable as any other span', async () => {
    const exporter = new InMemorySpanExporter();
    const service = new SimpleSpanProcessor({ exporter });
    const processor = new LegacyWorkflowSpanProcessor(() => [service]);
    processor.onEnd(legacySpan('00f067aa0ba902b7') as never);
    await processor.forceFlush();
    const [exported] = exporter.getFinishedSpans();
    expect(exported?.name).toBe('RunWorkflow:secondOpinionWorkflow');
    expect(exported?.instrumentationScope.name).toBe('@temporalio/interceptor-workflow');
    expect(exported?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
  });
});
