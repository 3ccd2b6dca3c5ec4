import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { inBatchConsumerSpans, startPublishSpans } from './trace';

const exporter = new InMemorySpanExporter();
beforeAll(() => {
  trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(() => {
  trace.disable();
  propagation.disable();
  context.disable();
});

const traceId = '0af7651916cd43dd8448eb211c80319c';
const writer = 'b7ad6b7169203331';

describe('the relay publish span', () => {
  it('is a producer child of the context the outbox row carries, and becomes the parent the consumer sees', () => {
    const spans = startPublishSpans([
      { topic: 'referral.events.v1', message: { headers: { ce_id: 'e1', traceparent: `00-${traceId}-${writer}-01` } } },
    ]);
    spans.end();
    const [publish] = exporter.getFinishedSpans();
    expect(publish?.name).toBe('referral.events.v1 publish');
    expect(publish?.kind).toBe(SpanKind.PRODUCER);
    expect(publish?.spanContext().traceId).toBe(traceId);
    expect(publish?.parentSpanContext?.spanId).toBe(writer);
    expect(publish?.attributes['messaging.message.id']).toBe('e1');
    expect(spans.records[0]?.message.headers).toEqual({ ce_id: 'e1', traceparent: `00-${traceId}-${publish?.spanContext().spanId}-01` });
  });
});

describe('a batch consumed in one span', () => {
  it("continues the first event's trace, and gives each other event's trace a span pointing at the batch", async () => {
    exporter.reset();
    const other = '1bf7651916cd43dd8448eb211c80319c';
    await inBatchConsumerSpans(
      'audit.events process batch',
      [
        { type: 'a.v1', traceparent: `00-${traceId}-${writer}-01` },
        { type: 'b.v1', traceparent: `00-${other}-${writer}-01` },
      ],
      { 'messaging.system': 'kafka' },
      async () => undefined,
    );
    const spans = exporter.getFinishedSpans();
    const batch = spans.find((s) => s.name === 'audit.events process batch');
    const single = spans.find((s) => s.name === 'b.v1 process');
    expect(batch?.spanContext().traceId).toBe(traceId);
    expect(single?.spanContext().traceId).toBe(other);
    expect(single?.attributes).toMatchObject({
      'messaging.batch.trace_id': traceId,
      'messaging.batch.span_id': batch?.spanContext().spanId,
    });
  });
});
