import { context, propagation, trace, SpanKind, SpanStatusCode, type Context, type Span } from '@opentelemetry/api';

/** The W3C trace context of the active span, to travel beside an event. */
export function currentTraceHeaders(): { traceparent?: string; tracestate?: string } {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return {
    ...(carrier.traceparent ? { traceparent: carrier.traceparent } : {}),
    ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}),
  };
}

export function contextFromTraceHeaders(headers: { traceparent?: string; tracestate?: string }): Context {
  const carrier: Record<string, string> = {};
  if (headers.traceparent) carrier.traceparent = headers.traceparent;
  if (headers.tracestate) carrier.tracestate = headers.tracestate;
  return propagation.extract(context.active(), carrier);
}

const tracer = () => trace.getTracer('sonet-messaging');

/** Runs fn in a consumer span whose parent is the producer's trace context. */
export async function inConsumerSpan<T>(
  name: string,
  parent: Context,
  attributes: Record<string, string | number>,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer().startActiveSpan(name, { kind: SpanKind.CONSUMER, attributes }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (e) {
      span.recordException(e as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
      throw e;
    } finally {
      span.end();
    }
  });
}

/**
 * Producer spans for records about to be sent, one per record, each a child of the trace context the record
 * carries (captured when it was written to the outbox). The records come back with their traceparent replaced by
 * their producer span's, so consumers are children of the publish. `end` closes the spans once the broker answered.
 */
export function startPublishSpans<R extends { topic: string; message: { headers: Record<string, string> } }>(
  records: readonly R[],
): { records: R[]; end: (error?: Error) => void } {
  const spans: Span[] = [];
  const traced = records.map((r) => {
    const span = tracer().startSpan(
      `${r.topic} publish`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'send',
          'messaging.destination.name': r.topic,
          ...(r.message.headers.ce_id ? { 'messaging.message.id': r.message.headers.ce_id } : {}),
        },
      },
      contextFromTraceHeaders(r.message.headers),
    );
    spans.push(span);
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(context.active(), span), carrier);
    return { ...r, message: { ...r.message, headers: { ...r.message.headers, ...carrier } } };
  });
  return {
    records: traced,
    end: (error) => {
      for (const span of spans) {
        if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
        span.end();
      }
    },
  };
}

/**
 * Runs fn (the handling of one event of a batch) in a consumer span of the event's own trace: what fn writes (a
 * notification's trace context, an outbox row's) continues that event's trace, not the batch's first event's.
 */
export function inEventConsumerSpan<T>(
  event: { id: string; type: string; traceparent?: string; tracestate?: string },
  attributes: Record<string, string | number>,
  fn: () => Promise<T>,
): Promise<T> {
  return inConsumerSpan(`${event.type} process`, contextFromTraceHeaders(event), { ...attributes, 'messaging.message.id': event.id }, fn);
}

/**
 * Runs fn (the handling of a whole batch) in a consumer span continuing the first event's trace, and gives every
 * other event of the batch a consumer span in its own trace, pointing at the batch span
 * (`messaging.batch.trace_id`, `messaging.batch.span_id`): each event's trace shows that it was consumed, and where.
 */
export async function inBatchConsumerSpans<T>(
  name: string,
  events: readonly { type: string; traceparent?: string; tracestate?: string }[],
  attributes: Record<string, string | number>,
  fn: () => Promise<T>,
): Promise<T> {
  const [first, ...others] = events;
  return inConsumerSpan(name, contextFromTraceHeaders(first ?? {}), attributes, async (batchSpan) => {
    const batch = batchSpan.spanContext();
    const spans = others
      .filter((e) => e.traceparent && e.traceparent !== first?.traceparent)
      .map((e) =>
        tracer().startSpan(
          `${e.type} process`,
          {
            kind: SpanKind.CONSUMER,
            attributes: { ...attributes, 'messaging.batch.trace_id': batch.traceId, 'messaging.batch.span_id': batch.spanId },
          },
          contextFromTraceHeaders(e),
        ),
      );
    try {
      return await fn();
    } finally {
      for (const s of spans) s.end();
    }
  });
}
