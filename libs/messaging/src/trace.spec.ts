import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  currentTraceHeaders,
  inBatchConsumerSpans,
  inConsumerSpan,
  inEventConsumerSpan,
  startPublishSpans,
  contextFromTraceHeaders,
} from './trace';

const exporter = new InMemorySpanExporter();
beforeAll(() => {
  trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
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

describe('the events of a batch handled in one transaction, each in its own span', () => {
  it("gives what each event's handler writes that event's own trace, not the batch's first event's", async () => {
    exporter.reset();
    const traces = ['1bf7651916cd43dd8448eb211c80319c', '2cf7651916cd43dd8448eb211c80319c', '3df7651916cd43dd8448eb211c80319c'];
    const events = traces.map((t, i) => ({ id: `e${i}`, type: 'referral.requested.v2', traceparent: `00-${t}-${writer}-01` }));
    const written: string[] = [];
    await inConsumerSpan('referral.events.v1 process batch', contextFromTraceHeaders(events[0]!), {}, async () => {
      for (const e of events) {
        await inEventConsumerSpan(e, { 'messaging.system': 'kafka' }, async () => {
          await new Promise((r) => setTimeout(r, 1)); // across an await, as a handler's queries are
          written.push(currentTraceHeaders().traceparent ?? '');
        });
      }
    });
    expect(written.map((tp) => tp.split('-')[1])).toEqual(traces);
    const perEvent = exporter.getFinishedSpans().filter((s) => s.name === 'referral.requested.v2 process');
    expect(perEvent.map((s) => [s.spanContext().traceId, s.parentSpanContext?.spanId, s.attributes['messaging.message.id']])).toEqual(
      traces.map((t, i) => [t, writer, `e${i}`]),
    );
  });
});
