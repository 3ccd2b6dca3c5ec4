import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { createEnvelope, defineEvent, EventRegistry, nhsNumberSchema, toWireMessage, type TopicName } from '@sonet/contracts';
import type { MessagePublisher, OutgoingRecord, ReceivedRecord } from '../port';
import { BatchInboxProcessor } from './batch-inbox-processor';
import { DLQ_HEADER_MAX_BYTES } from './dead-letter';
import { InboxProcessor, PermanentError } from './inbox-processor';

/*
 * Hostile input, by class, through both modes of the inbox (per record and per batch) and with data validation on
 * and off (audit keeps events verbatim and validates nothing): every forged record is dead-lettered with a reason
 * and its handler never runs; every dead letter's dlq-* headers are single-line, bounded and free of what the
 * message carried. The database is an in-memory stand-in for the inbox insert, rolled back when the transaction
 * function throws.
 */
const TOPIC = 'test.hostile.v1';

const Referred = defineEvent({
  type: 'test.patient-referred.v1',
  topic: TOPIC as TopicName,
  description: 'A test event about one referral, carrying personal data.',
  schema: z.strictObject({
    referralId: z.uuid(),
    nhsNumber: nhsNumberSchema,
    // A schema whose message quotes the input: the class of zod errors that would leak a value.
    patientName: z.string().max(40, { error: (issue) => `name ${String(issue.input)} is too long` }),
    email: z.email(),
    scores: z.record(z.string(), z.number()).optional(),
  }),
});
const registry = new EventRegistry([Referred]);

const PERSONAL = ['9434765919', '943 476 5919', 'Jane Doe', 'Jane', 'jane.doe@example.org'];

const validData = (referralId: string) => ({
  referralId,
  nhsNumber: '943 476 5919',
  patientName: 'Jane Doe',
  email: 'jane.doe@example.org',
});

class FakeDatabase {
  inbox = new Set<string>();

  orm(): MikroORM {
    const execute = async (sql: string, params: unknown[]) => {
      if (!sql.startsWith('insert into inbox')) throw new Error(`fake: ${sql}`);
      const out: { event_id: string }[] = [];
      for (let i = 0; i < params.length; i += 6) {
        const pk = `${String(params[i])}/${String(params[i + 1])}`;
        if (!this.inbox.has(pk)) out.push({ event_id: String(params[i + 1]) });
        this.inbox.add(pk);
      }
      return out;
    };
    const transactional = async <T>(fn: (tem: unknown) => Promise<T>): Promise<T> => {
      const before = new Set(this.inbox);
      try {
        return await fn({ execute });
      } catch (e) {
        this.inbox = before;
        throw e;
      }
    };
    return { em: { fork: () => ({ transactional }) } } as unknown as MikroORM;
  }
}

/** One way of consuming: feeds a record to a processor whose handler runs `behaviour`; says what happened. */
interface Mode {
  readonly name: string;
  run(record: ReceivedRecord, validateData: boolean, behaviour?: () => void): Promise<{ handled: number; dead: OutgoingRecord[] }>;
}

const setup = () => {
  const dead: OutgoingRecord[] = [];
  const publisher: MessagePublisher = { publish: async (r) => void dead.push(...r), disconnect: async () => undefined };
  return {
    db: new FakeDatabase(),
    dead,
    dlq: async () => publisher,
    common: { consumer: 'test.group', registry, maxAttempts: 2, backoffMs: 1 },
  };
};

const perRecord: Mode = {
  name: 'per record',
  async run(record, validateData, behaviour = () => {}) {
    const { db, dead, dlq, common } = setup();
    let handled = 0;
    const handler = async () => {
      handled++;
      behaviour();
    };
    await new InboxProcessor(db.orm(), dlq, { ...common, validateData, resolve: () => handler }).handle(record);
    return { handled, dead };
  },
};

const perBatch: Mode = {
  name: 'per batch',
  async run(record, validateData, behaviour = () => {}) {
    const { db, dead, dlq, common } = setup();
    let handled = 0;
    const handler = async (items: readonly unknown[]) => {
      handled += items.length;
      behaviour();
    };
    await new BatchInboxProcessor(db.orm(), dlq, { ...common, validateData, handler }).handleBatch({
      topic: TOPIC,
      partition: 0,
      records: [record],
    });
    return { handled, dead };
  },
};

/** A well-formed record about one referral, as the Kafka adapter hands it over (Buffers), before forging. */
const genuine = (data: (referralId: string) => unknown = validData) => {
  const referralId = randomUUID();
  const wire = toWireMessage(
    createEnvelope({ id: randomUUID(), type: Referred.type, source: 'urn:sonet:test', subject: referralId, data: data(referralId) }),
  );
  const headers: Record<string, Buffer | Buffer[]> = {};
  for (const [k, v] of Object.entries(wire.headers)) headers[k] = Buffer.from(v);
  const record: ReceivedRecord = { topic: TOPIC, partition: 0, offset: '7', key: Buffer.from(wire.key), value: wire.value, headers };
  return { referralId, record, headers };
};

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const NOT_UTF8 = Buffer.from([0xc3, 0x28]); // a two-byte sequence whose second byte is not a continuation
const OVERLONG_SLASH = Buffer.from([0xc0, 0xaf]); // "/" encoded in two bytes: not UTF-8, a classic filter bypass
const SURROGATE = Buffer.from([0xed, 0xa0, 0x80]); // a UTF-16 surrogate encoded as if it were a character

/** Each row forges one thing about a genuine record; every one must be refused before any handler runs. */
const forgeries: [string, string, () => ReceivedRecord][] = [
  ['subject ≠ key', 'referral-mismatch', () => ({ ...genuine().record, key: Buffer.from(randomUUID()) })],
  [
    'key and subject ≠ body referralId',
    'referral-mismatch',
    () => {
      const { record, headers } = genuine();
      const other = randomUUID();
      return { ...record, key: Buffer.from(other), headers: { ...headers, ce_subject: Buffer.from(other) } };
    },
  ],
  ['subject ≠ body referralId', 'referral-mismatch', () => ({ ...genuine().record, value: json(validData(randomUUID())) })],
  [
    'body referralId that is not a string',
    'referral-mismatch',
    () => {
      const { record, referralId } = genuine();
      return { ...record, value: json({ ...validData(referralId), referralId: [referralId] }) };
    },
  ],
  ['no key (subject present)', 'referral-mismatch', () => ({ ...genuine().record, key: null })],
  [
    'no subject',
    'invalid-envelope',
    () => {
      const { record, headers } = genuine();
      const { ce_subject: _dropped, ...rest } = headers;
      return { ...record, headers: rest };
    },
  ],
  [
    'body not UTF-8',
    'invalid-encoding',
    () => {
      const { record, referralId } = genuine();
      const [head, tail] = JSON.stringify(validData(referralId)).split('Jane');
      return { ...record, value: Buffer.concat([Buffer.from(`${head}`), NOT_UTF8, Buffer.from(`${tail}`)]) };
    },
  ],
  [
    'body with an overlong encoding',
    'invalid-encoding',
    () => {
      const { record, referralId } = genuine();
      const [head, tail] = JSON.stringify(validData(referralId)).split('Jane');
      return { ...record, value: Buffer.concat([Buffer.from(`${head}`), OVERLONG_SLASH, Buffer.from(`${tail}`)]) };
    },
  ],
  [
    'body with an encoded surrogate',
    'invalid-encoding',
    () => {
      const { record, referralId } = genuine();
      const [head, tail] = JSON.stringify(validData(referralId)).split('Jane');
      return { ...record, value: Buffer.concat([Buffer.from(`${head}`), SURROGATE, Buffer.from(`${tail}`)]) };
    },
  ],
  [
    'ce_source not UTF-8',
    'invalid-encoding',
    () => {
      const { record, headers } = genuine();
      return { ...record, headers: { ...headers, ce_source: Buffer.concat([Buffer.from('urn:'), NOT_UTF8]) } };
    },
  ],
  [
    'another header not UTF-8',
    'invalid-encoding',
    () => {
      const { record, headers } = genuine();
      return { ...record, headers: { ...headers, 'x-origin': NOT_UTF8 } };
    },
  ],
  [
    'an earlier value of a repeated header not UTF-8',
    'invalid-encoding',
    () => {
      const { record, headers } = genuine();
      return { ...record, headers: { ...headers, 'x-origin': [NOT_UTF8, Buffer.from('fine')] } };
    },
  ],
  ['key not UTF-8', 'invalid-encoding', () => ({ ...genuine().record, key: NOT_UTF8 })],
  [
    'body with a byte-order mark',
    'invalid-envelope',
    () => {
      const { record } = genuine();
      return { ...record, value: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), record.value as Buffer]) };
    },
  ],
  [
    'ce_source with a byte-order mark',
    'invalid-envelope',
    () => {
      const { record, headers } = genuine();
      return { ...record, headers: { ...headers, ce_source: Buffer.from('\ufeffurn:sonet:test') } };
    },
  ],
  [
    'ce_source with CR LF (header injection)',
    'invalid-envelope',
    () => {
      const { record, headers } = genuine();
      return { ...record, headers: { ...headers, ce_source: Buffer.from('urn:sonet:test\r\nBcc: attacker@example.org') } };
    },
  ],
  [
    'ce_source with a NUL',
    'invalid-envelope',
    () => {
      const { record, headers } = genuine();
      return { ...record, headers: { ...headers, ce_source: Buffer.from('urn:sonet\u0000:test') } };
    },
  ],
  [
    'an overlong ce_source',
    'invalid-envelope',
    () => {
      const { record, headers } = genuine();
      return { ...record, headers: { ...headers, ce_source: Buffer.from(`urn:${'x'.repeat(100_000)}`) } };
    },
  ],
  [
    'an overlong content-type',
    'invalid-envelope',
    () => {
      const { record, headers } = genuine();
      return { ...record, headers: { ...headers, 'content-type': Buffer.from(`text/plain; note=${'Jane Doe '.repeat(10_000)}`) } };
    },
  ],
];

const expectCleanDlqHeaders = (dead: OutgoingRecord) => {
  const dlq = Object.entries(dead.message.headers).filter(([name]) => name.startsWith('dlq-'));
  expect(dlq.length).toBeGreaterThanOrEqual(8);
  for (const [name, value] of dlq) {
    // eslint-disable-next-line no-control-regex
    expect({ name, value, controls: /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(value) }).toEqual({ name, value, controls: false });
    expect(Buffer.byteLength(value)).toBeLessThanOrEqual(DLQ_HEADER_MAX_BYTES);
    for (const personal of PERSONAL) expect({ name, value }).not.toEqual({ name, value: expect.stringContaining(personal) });
  }
};

describe.each([perRecord, perBatch])('the inbox, $name,', (mode) => {
  describe.each([true, false])('with validateData %s', (validate) => {
    it('acts on a genuine event whose key, subject and body name one referral (the control case)', async () => {
      const { handled, dead } = await mode.run(genuine().record, validate);
      expect({ handled, dead: dead.length }).toEqual({ handled: 1, dead: 0 });
    });

    it('acts on an event whose body names no referral', async () => {
      const record = genuine(() => ({})).record;
      const { handled, dead } = await mode.run(record, false);
      expect({ handled, dead: dead.length }).toEqual({ handled: 1, dead: 0 });
    });

    it.each(forgeries)('refuses %s: dead-lettered as %s, the handler never runs', async (_, reason, forge) => {
      const { handled, dead } = await mode.run(forge(), validate);
      expect(handled).toBe(0);
      expect(dead).toHaveLength(1);
      expect(dead[0]!.topic).toBe(`${TOPIC}.dlq`);
      expect(dead[0]!.message.headers['dlq-reason']).toBe(reason);
      expect(dead[0]!.message.headers['dlq-error']).not.toBe('');
      expectCleanDlqHeaders(dead[0]!);
    });
  });

  describe('dead letters carry no personal data and stay one bounded line', () => {
    const withData = (data: (referralId: string) => unknown) => genuine(data).record;

    it.each<[string, (referralId: string) => unknown]>([
      ['an invalid NHS number', (id) => ({ ...validData(id), nhsNumber: '943 476 5918' })],
      ['a rule whose message quotes the value', (id) => ({ ...validData(id), patientName: `Jane Doe ${'of Somewhere '.repeat(10)}` })],
      ['an invalid email with a newline', (id) => ({ ...validData(id), email: 'jane.doe@example.org\r\nBcc: x' })],
      ['an unknown field named after the patient', (id) => ({ ...validData(id), 'Jane Doe': 1 })],
      ['a record keyed by personal data', (id) => ({ ...validData(id), scores: { '9434765919': 'x', 'jane.doe@example.org': 'y' } })],
      ['every field wrong at once', (id) => ({ referralId: id, nhsNumber: 'Jane Doe', patientName: 9434765919, email: 'Jane\nDoe' })],
    ])('for %s (invalid-data)', async (_, data) => {
      const { handled, dead } = await mode.run(withData(data), true);
      expect(handled).toBe(0);
      expect(dead[0]!.message.headers['dlq-reason']).toBe('invalid-data');
      expect(dead[0]!.message.headers['dlq-error']).toMatch(/→ at /);
      expectCleanDlqHeaders(dead[0]!);
    });

    it('for a handler error that quotes the patient, spans lines and runs long', async () => {
      const { dead } = await mode.run(genuine().record, true, () => {
        throw new PermanentError(`cannot refer Jane Doe (NHS 9434765919, jane.doe@example.org)\r\nstack: ${'at somewhere\n'.repeat(500)}`);
      });
      expect(dead[0]!.message.headers['dlq-reason']).toBe('rejected');
      expect(dead[0]!.message.headers['dlq-error']).toMatch(
        /^cannot refer \[redacted\] \(NHS \[redacted\], \[redacted\]\) stack: at somewhere at/,
      );
      expectCleanDlqHeaders(dead[0]!);
    });

    it('for a record that already carries dlq-* headers with newlines (a replayed dead letter)', async () => {
      const { record, headers } = genuine();
      const replayed = {
        ...record,
        key: null,
        headers: { ...headers, 'dlq-error': Buffer.from('Jane Doe\r\nX: y'), 'dlq-note': Buffer.from('9434765919') },
      };
      const { dead } = await mode.run(replayed, true);
      expect(dead[0]!.message.headers['dlq-note']).toBeUndefined();
      expectCleanDlqHeaders(dead[0]!);
    });
  });
});
