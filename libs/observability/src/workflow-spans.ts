import type { Context, SpanContext } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';

/**
 * A span as Temporal's OpenTelemetry interceptor (still on the 1.x SDK) hands it over from the workflow sandbox:
 * the 1.x `ReadableSpan`, which names its parent by id and its scope `instrumentationLibrary`.
 */
export type LegacyReadableSpan = Omit<ReadableSpan, 'parentSpanContext' | 'instrumentationScope'> & {
  readonly parentSpanId?: string | undefined;
  readonly instrumentationLibrary?: InstrumentationScope | undefined;
};

/** The 3.x shape of a 1.x span: the parent as a span context of the same trace, the scope renamed. */
export function fromLegacySpan(span: LegacyReadableSpan): ReadableSpan {
  const { parentSpanId, instrumentationLibrary, ...rest } = span;
  const own = span.spanContext();
  const parentSpanContext: SpanContext | undefined = parentSpanId
    ? { traceId: own.traceId, spanId: parentSpanId, traceFlags: own.traceFlags, isRemote: true }
    : undefined;
  return {
    ...rest,
    spanContext: () => own,
    instrumentationScope: instrumentationLibrary ?? { name: '@temporalio/interceptor-workflow' },
    ...(parentSpanContext ? { parentSpanContext } : {}),
  };
}

/**
 * The span processor to give Temporal's workflow span sink (`makeWorkflowExporter`): it maps each 1.x span to the
 * 3.x shape and passes it to the service's own processors, so workflow spans are exported with every other span.
 * Without the mapping the 3.x exporters fail on the missing `instrumentationScope`.
 */
export class LegacyWorkflowSpanProcessor implements SpanProcessor {
  constructor(private readonly target: () => readonly SpanProcessor[]) {}

  onStart(_span: Span, _parentContext: Context): void {
    // Workflow spans arrive ended, through onEnd only.
  }

  onEnd(span: ReadableSpan): void {
    const mapped = fromLegacySpan(span as unknown as LegacyReadableSpan);
    for (const p of this.target()) p.onEnd(mapped);
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.target().map((p) => p.forceFlush()));
  }

  async shutdown(): Promise<void> {
    // The service's processors belong to its tracer provider, which shuts them down.
  }
}
