import { z } from 'zod';
import { EnvelopeError, fromWireMessage, type EventEnvelope, type EventRegistry } from '@sonet/contracts';
import type { ReceivedRecord } from '../port';

/** Why a record is refused before any handler sees it; becomes the dead letter's `dlq-reason` and `dlq-error`. */
export interface Refusal {
  readonly kind: 'invalid-encoding' | 'invalid-envelope' | 'referral-mismatch' | 'invalid-data';
  readonly reason: string;
  readonly envelope?: EventEnvelope;
}

/** A record every consumer may act on: a CloudEvent whose bytes, attributes and referral all agree. */
export interface Admitted {
  readonly envelope: EventEnvelope;
  /** Every Kafka header, decoded strictly as UTF-8. */
  readonly headers: Readonly<Record<string, string>>;
}

// fatal: bytes that are not UTF-8 are refused, never turned into U+FFFD and acted on.
// ignoreBOM: a byte-order mark stays in the text, so a BOM-prefixed body is not JSON and is refused.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Headers whose values become envelope attributes: they must be one clean line each. */
const ATTRIBUTE_HEADERS = /^(ce_.*|content-type|traceparent|tracestate)$/;
// C0 and C1 controls (CR, LF, NUL, ESC, …), the Unicode line and paragraph separators and a byte-order mark.
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/;

/** Longest attribute value accepted: the longest legitimate one, tracestate, is at most 512 characters (W3C). */
const MAX_ATTRIBUTE_LENGTH = 1024;

class EncodingError extends Error {}

const decode = (value: Buffer | string, what: string): string => {
  if (typeof value === 'string') return value;
  try {
    return utf8.decode(value);
  } catch {
    throw new EncodingError(`${what} is not valid UTF-8`);
  }
};

/** The record with key, value and every header as text, or an EncodingError naming the part that is not UTF-8. */
function decodeStrictly(record: ReceivedRecord): { key: string | null; value: string | null; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  for (const [name, raw] of Object.entries(record.headers)) {
    if (raw === undefined) continue;
    // Every value of a repeated header is checked, not only the last one that is kept.
    const values = (Array.isArray(raw) ? raw : [raw]).map((v) => decode(v, `header ${safeName(name)}`));
    const last = values[values.length - 1];
    if (last !== undefined) headers[name] = last;
  }
  return {
    key: record.key === null ? null : decode(record.key, 'message key'),
    value: record.value === null ? null : decode(record.value, 'body'),
    headers,
  };
}

/** A header name as it may appear in a reason: the attacker chooses it, so only a plain token is repeated. */
const safeName = (name: string) => (/^[\w.-]{1,64}$/.test(name) ? name : '(unprintable name)');

/** The referral the body is about, when it names one: the field every referral event carries. */
function bodyReferralId(data: unknown): { present: false } | { present: true; value: unknown } {
  if (typeof data !== 'object' || data === null || Array.isArray(data) || !Object.hasOwn(data, 'referralId')) return { present: false };
  return { present: true, value: (data as { referralId: unknown }).referralId };
}

/**
 * Reads a record the way every consumer must before acting on it: strictly decoded, a valid CloudEvent with
 * single-line attributes, and one referral named by the Kafka key, `ce_subject` and the body's `referralId`
 * (audit files an event under its subject, handlers act on the body: they must be the same referral).
 * Data validation is separate (validateData), so this holds for consumers that keep events verbatim.
 */
export function admit(record: ReceivedRecord): { ok: true; admitted: Admitted } | { ok: false; refusal: Refusal } {
  let text: ReturnType<typeof decodeStrictly>;
  try {
    text = decodeStrictly(record);
  } catch (e) {
    if (e instanceof EncodingError) return { ok: false, refusal: { kind: 'invalid-encoding', reason: e.message } };
    throw e;
  }
  for (const [name, value] of Object.entries(text.headers)) {
    if (!ATTRIBUTE_HEADERS.test(name)) continue;
    if (UNSAFE_CHARS.test(value))
      return { ok: false, refusal: { kind: 'invalid-envelope', reason: `header ${name} contains control characters` } };
    if (value.length > MAX_ATTRIBUTE_LENGTH) {
      return {
        ok: false,
        refusal: { kind: 'invalid-envelope', reason: `header ${name} is longer than ${MAX_ATTRIBUTE_LENGTH} characters` },
      };
    }
  }
  const subject = text.headers.ce_subject;
  if (subject !== undefined && text.key !== subject) {
    return { ok: false, refusal: { kind: 'referral-mismatch', reason: 'message key does not match ce_subject' } };
  }
  let envelope: EventEnvelope;
  try {
    envelope = fromWireMessage(text);
  } catch (e) {
    if (e instanceof EnvelopeError) return { ok: false, refusal: { kind: 'invalid-envelope', reason: e.message } };
    throw e;
  }
  const referral = bodyReferralId(envelope.data);
  if (referral.present && referral.value !== envelope.subject) {
    return {
      ok: false,
      refusal: { kind: 'referral-mismatch', reason: 'data.referralId does not match ce_subject and the message key', envelope },
    };
  }
  return { ok: true, admitted: { envelope, headers: text.headers } };
}

/** Codes whose zod messages repeat parts of the input (keys of the event), described by their code instead. */
const MESSAGE_ECHOES_INPUT = new Set<string>(['unrecognized_keys']);

const pathOf = (path: readonly PropertyKey[]) =>
  path.length === 0
    ? '(root)'
    : path.map((p) => (typeof p === 'number' ? `[${p}]` : /^[A-Za-z_$][\w$]{0,63}$/.test(String(p)) ? String(p) : '[key]')).join('.');

/**
 * Says what is wrong by rule and path only, on one line: zod's prettified errors span lines and some of its
 * messages repeat the input, and a dead letter's headers must not carry personal data.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((i) => `${MESSAGE_ECHOES_INPUT.has(i.code) ? i.code.replace(/_/g, ' ') : i.message} → at ${pathOf(i.path)}`).join('; ');
}

/** Validates an admitted envelope's data against its type's schema; the data comes back normalised. */
export function validateData(
  registry: EventRegistry,
  envelope: EventEnvelope,
): { ok: true; envelope: EventEnvelope } | { ok: false; refusal: Refusal } {
  const definition = registry.get(envelope.type);
  if (!definition) return { ok: false, refusal: { kind: 'invalid-data', reason: `unknown event type ${envelope.type}`, envelope } };
  const parsed = definition.schema.safeParse(envelope.data);
  if (!parsed.success) return { ok: false, refusal: { kind: 'invalid-data', reason: describeIssues(parsed.error.issues), envelope } };
  return { ok: true, envelope: { ...envelope, data: parsed.data } };
}
