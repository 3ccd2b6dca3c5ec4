import { dlqTopicOf, headerTextMap, type EventEnvelope } from '@sonet/contracts';
import type { MessagePublisher, ReceivedRecord } from '../port';

export type InboxLog = (level: 'warn' | 'error' | 'info', message: string, extra: Record<string, unknown>) => void;

/** Most bytes of one `dlq-*` header value: a reason is a summary, and brokers and log shippers cap headers. */
export const DLQ_HEADER_MAX_BYTES = 500;

// Every control character (CR and LF among them), the Unicode line separators and the byte-order mark.
// eslint-disable-next-line no-control-regex
const UNSAFE_RUNS = /[\s\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]+/g;
const REDACTED = '[redacted]';
/** Values shorter than this are not redacted: they would blank out digits and words of every reason. */
const MIN_REDACTED_LENGTH = 4;

/** One line of at most `max` UTF-8 bytes, cut at a character boundary. */
export function headerLine(text: string, max = DLQ_HEADER_MAX_BYTES): string {
  const line = text.replace(UNSAFE_RUNS, ' ').trim();
  if (Buffer.byteLength(line) <= max) return line;
  let out = '';
  let bytes = Buffer.byteLength('…');
  for (const ch of line) {
    bytes += Buffer.byteLength(ch);
    if (bytes > max) break;
    out += ch;
  }
  return `${out}…`;
}

/** Every string and number inside a JSON value, with whitespace-free variants (an NHS number is often spaced). */
function leafValues(value: unknown, out: Set<string>): void {
  if (typeof value === 'string' || typeof value === 'number') {
    const text = String(value);
    out.add(text);
    out.add(text.replace(/\s+/g, ''));
  } else if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) leafValues(v, out);
  }
}

/**
 * What the message carried that must not reappear in a reason: the body's values, the key and the header values.
 * The event type stays (it names the contract, e.g. "unknown event type …"). A handler's error can quote any of
 * these (a database error echoes the row), whatever the inbox's own reasons avoid.
 */
function valuesOf(record: ReceivedRecord): string[] {
  const values = new Set<string>();
  if (record.value !== null) {
    try {
      leafValues(JSON.parse(record.value.toString()), values);
    } catch {
      // Not JSON: the reasons for such a body never quote it.
    }
  }
  if (record.key !== null) values.add(record.key.toString());
  for (const [name, value] of Object.entries(headerTextMap(record.headers))) if (name !== 'ce_type') values.add(value);
  return [...values].filter((v) => v.trim().length >= MIN_REDACTED_LENGTH).sort((a, b) => b.length - a.length);
}

function redact(text: string, values: readonly string[]): string {
  let out = text;
  for (const v of values) out = out.split(v).join(REDACTED);
  return out;
}

/**
 * Sends a record the consumer gives up on to `<topic>.dlq`: the original key, body and headers, plus the reason in
 * `dlq-*` headers. Each `dlq-*` value is one line, bounded, and quotes nothing the message carried (reasons say
 * which rule failed at which path). If the dead letter cannot be written this throws, the offset is not committed
 * and the record comes back: nothing is lost.
 */
export async function deadLetter(
  publisher: () => Promise<MessagePublisher>,
  consumer: string,
  log: InboxLog | undefined,
  record: ReceivedRecord,
  failure: { kind: string; reason: string; attempts: number; envelope?: EventEnvelope | undefined },
): Promise<void> {
  const reason = headerLine(redact(failure.reason, valuesOf(record)));
  const dlq: Record<string, string> = {
    'dlq-reason': failure.kind,
    'dlq-error': reason,
    'dlq-original-topic': record.topic,
    'dlq-original-partition': String(record.partition),
    'dlq-original-offset': record.offset,
    'dlq-consumer-group': consumer,
    'dlq-attempts': String(failure.attempts),
    'dlq-failed-at': new Date().toISOString(),
  };
  // A replayed dead letter's old dlq-* headers would be mistaken for this failure's: only ours travel on.
  const headers = Object.fromEntries(Object.entries(headerTextMap(record.headers)).filter(([name]) => !name.startsWith('dlq-')));
  for (const [name, value] of Object.entries(dlq)) headers[name] = headerLine(value);
  const key = record.key === null ? (failure.envelope?.subject ?? '') : record.key.toString();
  const value = record.value === null ? Buffer.alloc(0) : Buffer.from(record.value);
  await (await publisher()).publish([{ topic: dlqTopicOf(record.topic), message: { key, value, headers } }]);
  log?.('error', 'event dead-lettered', {
    consumer,
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    eventId: failure.envelope?.id,
    eventType: failure.envelope?.type,
    reason: failure.kind,
    error: reason,
  });
}
