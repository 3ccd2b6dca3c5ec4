import { z } from 'zod';

/**
 * CloudEvents 1.0 envelope, carried in Kafka "binary mode": the attributes travel as `ce_*`
 * headers and the body is the event's JSON data. W3C trace context travels beside it.
 * See https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/kafka-protocol-binding.md
 */
export interface EventEnvelope<T = unknown> {
  readonly specversion: '1.0';
  readonly id: string;
  readonly type: string;
  readonly source: string;
  /** The referral id: also the Kafka key, so per-referral order follows from partitioning. */
  readonly subject: string;
  /** UTC ISO-8601. */
  readonly time: string;
  readonly datacontenttype: 'application/json';
  readonly traceparent?: string;
  readonly tracestate?: string;
  readonly data: T;
}

/** What a Kafka producer sends, independent of any Kafka client library. */
export interface WireMessage {
  readonly key: string;
  readonly value: Buffer;
  readonly headers: Record<string, string>;
}

/** What a Kafka consumer receives, independent of any Kafka client library. */
export interface ReceivedWireMessage {
  readonly key: Buffer | string | null;
  readonly value: Buffer | string | null;
  readonly headers: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

export class EnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvelopeError';
  }
}

const uuid = z.uuid();
const isoUtc = z.iso.datetime({ offset: false });
const ceType = z.string().regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+\.v[0-9]+$/, 'type must look like context.event-name.vN');
const traceparent = z.string().regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);

const attributesSchema = z.object({
  specversion: z.literal('1.0'),
  id: uuid,
  type: ceType,
  source: z.string().min(1),
  subject: uuid,
  time: isoUtc,
  datacontenttype: z.literal('application/json'),
  traceparent: traceparent.optional(),
  tracestate: z.string().optional(),
});

export interface NewEnvelope<T> {
  id: string;
  type: string;
  source: string;
  subject: string;
  time?: Date | string;
  data: T;
  traceparent?: string;
  tracestate?: string;
}

export function createEnvelope<T>(input: NewEnvelope<T>): EventEnvelope<T> {
  const time = input.time instanceof Date ? input.time.toISOString() : (input.time ?? new Date().toISOString());
  const attrs = attributesSchema.safeParse({
    specversion: '1.0',
    id: input.id,
    type: input.type,
    source: input.source,
    subject: input.subject,
    time,
    datacontenttype: 'application/json',
    traceparent: input.traceparent,
    tracestate: input.tracestate,
  });
  if (!attrs.success) throw new EnvelopeError(`invalid envelope: ${z.prettifyError(attrs.error)}`);
  return { ...attrs.data, specversion: '1.0', datacontenttype: 'application/json', data: input.data };
}

export function toWireMessage(envelope: EventEnvelope): WireMessage {
  const headers: Record<string, string> = {
    ce_specversion: envelope.specversion,
    ce_id: envelope.id,
    ce_type: envelope.type,
    ce_source: envelope.source,
    ce_subject: envelope.subject,
    ce_time: envelope.time,
    'content-type': envelope.datacontenttype,
  };
  if (envelope.traceparent) headers.traceparent = envelope.traceparent;
  if (envelope.tracestate) headers.tracestate = envelope.tracestate;
  return { key: envelope.subject, value: Buffer.from(JSON.stringify(envelope.data), 'utf8'), headers };
}

export function headerText(value: Buffer | string | (Buffer | string)[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const one = Array.isArray(value) ? value[value.length - 1] : value;
  if (one === undefined) return undefined;
  return typeof one === 'string' ? one : one.toString('utf8');
}

/** Every header of a received message as text (the last value where a header repeats). */
export function headerTextMap(headers: ReceivedWireMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const t = headerText(v);
    if (t !== undefined) out[k] = t;
  }
  return out;
}

/** Reads a binary-mode CloudEvent; throws EnvelopeError saying what is wrong. */
export function fromWireMessage(message: ReceivedWireMessage): EventEnvelope<unknown> {
  const h = (name: string) => headerText(message.headers[name]);
  const contentType = h('content-type');
  if (contentType !== undefined && !contentType.startsWith('application/json')) {
    throw new EnvelopeError(`unsupported content-type ${contentType}`);
  }
  const attrs = attributesSchema.safeParse({
    specversion: h('ce_specversion'),
    id: h('ce_id'),
    type: h('ce_type'),
    source: h('ce_source'),
    subject: h('ce_subject'),
    time: h('ce_time'),
    datacontenttype: 'application/json',
    traceparent: h('traceparent'),
    tracestate: h('tracestate'),
  });
  if (!attrs.success) throw new EnvelopeError(`invalid CloudEvents headers: ${z.prettifyError(attrs.error)}`);
  const key = message.key === null ? null : message.key.toString();
  if (key !== attrs.data.subject) throw new EnvelopeError('message key does not match ce_subject');
  if (message.value === null) throw new EnvelopeError('empty body');
  let data: unknown;
  try {
    data = JSON.parse(message.value.toString());
  } catch {
    throw new EnvelopeError('body is not valid JSON');
  }
  return { ...attrs.data, specversion: '1.0', datacontenttype: 'application/json', data };
}
