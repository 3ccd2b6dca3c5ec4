import { randomUUID } from 'node:crypto';
import { createEnvelope, EnvelopeError, fromWireMessage, headerText, toWireMessage, type ReceivedWireMessage } from './envelope';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

const sample = (overrides: Partial<Parameters<typeof createEnvelope>[0]> = {}) =>
  createEnvelope({
    id: randomUUID(),
    type: 'referral.requested.v1',
    source: 'urn:sonet:service:referral',
    subject: randomUUID(),
    time: new Date('2025-03-04T05:06:07.089Z'),
    data: { referralId: 'r-1', note: 'café ✓', nested: { n: 1, list: [1, 2] } },
    ...overrides,
  });

/** A wire message as a Kafka client hands it over: headers as Buffers, key and value as Buffers. */
const asReceived = (w: ReturnType<typeof toWireMessage>): ReceivedWireMessage => ({
  key: Buffer.from(w.key, 'utf8'),
  value: w.value,
  headers: Object.fromEntries(Object.entries(w.headers).map(([k, v]) => [k, Buffer.from(v, 'utf8')])),
});

/** A valid received message with some headers replaced or removed (undefined removes). */
const tampered = (changes: Record<string, string | undefined>, base = sample()): ReceivedWireMessage => {
  const w = toWireMessage(base);
  const headers: Record<string, string> = { ...w.headers };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete headers[k];
    else headers[k] = v;
  }
  return { key: w.key, value: w.value, headers };
};

const envelopeErrorOf = (fn: () => unknown): EnvelopeError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EnvelopeError);
    return e as EnvelopeError;
  }
  throw new Error('expected an EnvelopeError, nothing was thrown');
};

describe('CloudEvents envelope in Kafka binary mode', () => {
  describe('when an envelope goes to the wire and back', () => {
    it('carries every attribute as a ce_ header and the data as the JSON body', () => {
      const env = sample({ traceparent: TRACEPARENT, tracestate: 'sonet=1' });
      const w = toWireMessage(env);
      expect(w.headers).toEqual({
        ce_specversion: '1.0',
        ce_id: env.id,
        ce_type: 'referral.requested.v1',
        ce_source: 'urn:sonet:service:referral',
        ce_subject: env.subject,
        ce_time: '2025-03-04T05:06:07.089Z',
        'content-type': 'application/json',
        traceparent: TRACEPARENT,
        tracestate: 'sonet=1',
      });
      expect(JSON.parse(w.value.toString('utf8'))).toEqual(env.data);
    });

    it('uses the subject (the referral id) as the Kafka key', () => {
      const env = sample();
      expect(toWireMessage(env).key).toBe(env.subject);
    });

    it('reads back an equal envelope from Buffer headers, key and value', () => {
      const env = sample({ traceparent: TRACEPARENT });
      expect(fromWireMessage(asReceived(toWireMessage(env)))).toEqual(env);
    });

    it('reads back an equal envelope from string headers, key and value', () => {
      const env = sample();
      const w = toWireMessage(env);
      expect(fromWireMessage({ key: w.key, value: w.value.toString('utf8'), headers: w.headers })).toEqual(env);
    });

    it('leaves out trace headers when the envelope has no trace context', () => {
      const w = toWireMessage(sample());
      expect(w.headers).not.toHaveProperty('traceparent');
      expect(w.headers).not.toHaveProperty('tracestate');
      expect(fromWireMessage(w).traceparent).toBeUndefined();
    });

    it('takes the last value when a header is repeated', () => {
      const env = sample();
      const w = toWireMessage(env);
      const other = randomUUID();
      const received: ReceivedWireMessage = {
        key: w.key,
        value: w.value,
        headers: { ...w.headers, ce_id: [Buffer.from(other), Buffer.from(env.id)] },
      };
      expect(fromWireMessage(received).id).toBe(env.id);
    });

    it('accepts a JSON content-type with parameters, and a missing content-type', () => {
      expect(() => fromWireMessage(tampered({ 'content-type': 'application/json; charset=utf-8' }))).not.toThrow();
      expect(() => fromWireMessage(tampered({ 'content-type': undefined }))).not.toThrow();
    });
  });

  describe('when creating an envelope', () => {
    it('stamps the current UTC time when none is given', () => {
      const before = Date.now();
      const env = sample({ time: undefined });
      expect(env.time).toMatch(/Z$/);
      expect(Date.parse(env.time)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(env.time)).toBeLessThanOrEqual(Date.now());
    });

    it.each([
      ['an id that is not a UUID', { id: 'not-a-uuid' }, 'id'],
      ['a subject that is not a UUID', { subject: 'ref-1' }, 'subject'],
      ['a type without a version', { type: 'referral.requested' }, 'type'],
      ['a type with capitals', { type: 'Referral.Requested.v1' }, 'type'],
      ['a type with a single segment', { type: 'requested.v1' }, 'type'],
      ['an empty source', { source: '' }, 'source'],
      ['a time with an offset', { time: '2025-03-04T06:06:07+01:00' }, 'time'],
      ['a time without a zone', { time: '2025-03-04T05:06:07' }, 'time'],
      ['a malformed traceparent', { traceparent: '00-xyz-01' }, 'traceparent'],
    ])('rejects %s with an EnvelopeError naming the attribute', (_what, overrides, attribute) => {
      const e = envelopeErrorOf(() => sample(overrides));
      expect(e.message).toMatch(/^invalid envelope: /);
      expect(e.message).toMatch(new RegExp(`→ at ${attribute}$`, 'm'));
      // Only the bad attribute is reported.
      expect(e.message.match(/→ at /g)).toHaveLength(1);
    });

    it('explains the expected shape of a bad type', () => {
      expect(envelopeErrorOf(() => sample({ type: 'referral.requested' })).message).toContain('type must look like context.event-name.vN');
    });
  });

  describe('when a received message is not a valid CloudEvent', () => {
    it.each([
      ['ce_id is missing', { ce_id: undefined }, 'id'],
      ['ce_id is not a UUID', { ce_id: '12345' }, 'id'],
      ['ce_specversion is missing', { ce_specversion: undefined }, 'specversion'],
      ['ce_specversion is 0.3', { ce_specversion: '0.3' }, 'specversion'],
      ['ce_type is missing', { ce_type: undefined }, 'type'],
      ['ce_type has no version', { ce_type: 'referral.requested' }, 'type'],
      ['ce_source is empty', { ce_source: '' }, 'source'],
      ['ce_subject is missing', { ce_subject: undefined }, 'subject'],
      ['ce_time is missing', { ce_time: undefined }, 'time'],
      ['ce_time is not UTC', { ce_time: '2025-03-04T06:06:07.089+01:00' }, 'time'],
      ['ce_time has no zone', { ce_time: '2025-03-04T05:06:07.089' }, 'time'],
      ['ce_time is not a date', { ce_time: 'yesterday' }, 'time'],
      ['traceparent is malformed', { traceparent: 'garbage' }, 'traceparent'],
    ])('rejects it when %s, naming the attribute', (_what, changes, attribute) => {
      const e = envelopeErrorOf(() => fromWireMessage(tampered(changes)));
      expect(e.message).toMatch(/^invalid CloudEvents headers: /);
      expect(e.message).toMatch(new RegExp(`→ at ${attribute}$`, 'm'));
    });

    it('reports every bad header at once', () => {
      const e = envelopeErrorOf(() => fromWireMessage(tampered({ ce_id: undefined, ce_time: 'yesterday' })));
      expect(e.message).toMatch(/→ at id$/m);
      expect(e.message).toMatch(/→ at time$/m);
    });

    it('rejects a content-type other than JSON', () => {
      const e = envelopeErrorOf(() => fromWireMessage(tampered({ 'content-type': 'application/avro' })));
      expect(e.message).toBe('unsupported content-type application/avro');
    });

    it('rejects a key that differs from ce_subject', () => {
      const w = toWireMessage(sample());
      const e = envelopeErrorOf(() => fromWireMessage({ ...w, key: randomUUID() }));
      expect(e.message).toBe('message key does not match ce_subject');
    });

    it('rejects a message without a key', () => {
      const w = toWireMessage(sample());
      const e = envelopeErrorOf(() => fromWireMessage({ ...w, key: null }));
      expect(e.message).toBe('message key does not match ce_subject');
    });

    it('rejects an empty (tombstone) body', () => {
      const w = toWireMessage(sample());
      const e = envelopeErrorOf(() => fromWireMessage({ ...w, value: null }));
      expect(e.message).toBe('empty body');
    });

    it.each([
      ['truncated JSON', '{"referralId":'],
      ['plain text', 'hello'],
      ['a zero-length body', ''],
    ])('rejects a body that is %s', (_what, body) => {
      const w = toWireMessage(sample());
      const e = envelopeErrorOf(() => fromWireMessage({ ...w, value: Buffer.from(body) }));
      expect(e.message).toBe('body is not valid JSON');
    });
  });
});

describe('headerText', () => {
  it('reads Buffers as UTF-8, strings as they are, arrays by their last value, and absence as undefined', () => {
    expect(headerText(Buffer.from('café', 'utf8'))).toBe('café');
    expect(headerText('plain')).toBe('plain');
    expect(headerText(['first', Buffer.from('last')])).toBe('last');
    expect(headerText([])).toBeUndefined();
    expect(headerText(undefined)).toBeUndefined();
  });
});
