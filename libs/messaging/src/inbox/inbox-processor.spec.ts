import { DependencyUnavailableError } from '@sonet/service-kit';
import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { z } from 'zod';
import {
  createEnvelope,
  defineEvent,
  EventRegistry,
  nhsNumberSchema,
  toWireMessage,
  type EventEnvelope,
  type TopicName,
} from '@sonet/contracts';
import type { MessagePublisher, OutgoingRecord, ReceivedRecord } from '../port';
import { InboxProcessor, PermanentError, type InboxContext, type InboxHandler, type InboxProcessorOptions } from './inbox-processor';

/*
 * Unit tests of the processor's decisions against a tiny in-memory stand-in for the database. The fake
 * understands only the inbox insert the processor issues and one "insert into effects" statement that the
 * test handlers use for their business write, and rolls both back when the transaction function throws.
 * The same behaviour on real PostgreSQL and Kafka is in inbox.int.spec.ts.
 */

const TOPIC = 'test.things.v1';

const ThingHappened = defineEvent({
  type: 'test.thing-happened.v1',
  topic: TOPIC as TopicName,
  description: 'A test event carrying an NHS number.',
  schema: z.object({ nhsNumber: nhsNumberSchema, n: z.number().int() }),
});
const ThingIgnored = defineEvent({
  type: 'test.thing-ignored.v1',
  topic: TOPIC as TopicName,
  description: 'A test event nobody here handles.',
  schema: z.object({}),
});
const registry = new EventRegistry([ThingHappened, ThingIgnored]);

const squash = (sql: string) => sql.replace(/\s+/g, ' ').trim();

class FakeDatabase {
  inbox = new Map<string, { consumer: string; eventId: string; eventType: string; topic: string; partition: number; offset: string }>();
  effects: unknown[][] = [];

  private async execute(sql: string, params: readonly unknown[] = []): Promise<unknown[]> {
    const q = squash(sql);
    if (q.startsWith('insert into inbox (consumer, event_id, event_type, topic, partition, "offset") values')) {
      if (!q.endsWith('on conflict do nothing returning event_id')) throw new Error(`fake: unexpected inbox insert: ${q}`);
      const [consumer, eventId, eventType, topic, partition, offset] = params as [string, string, string, string, number, string];
      const pk = `${consumer}/${eventId}`;
      if (this.inbox.has(pk)) return [];
      this.inbox.set(pk, { consumer, eventId, eventType, topic, partition, offset });
      return [{ event_id: eventId }];
    }
    if (q.startsWith('insert into effects')) {
      this.effects.push([...params]);
      return [];
    }
    throw new Error(`fake database does not understand: ${q}`);
  }

  /** A stand-in for MikroORM: `em.fork().transactional(fn)`, rolled back when fn throws. */
  orm(): MikroORM {
    const fork = () => ({
      transactional: async <T>(fn: (tem: unknown) => Promise<T>): Promise<T> => {
        const inbox = new Map(this.inbox);
        const effects = [...this.effects];
        try {
          return await fn({ execute: (sql: string, params?: unknown[]) => this.execute(sql, params) });
        } catch (e) {
          this.inbox = inbox;
          this.effects = effects;
          throw e;
        }
      },
    });
    return { em: { fork } } as unknown as MikroORM;
  }
}

class FakeDlq implements MessagePublisher {
  readonly records: OutgoingRecord[] = [];
  failWith: Error | undefined;

  async publish(records: readonly OutgoingRecord[]): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.records.push(...records);
  }

  async disconnect(): Promise<void> {}
}

const envelope = (data: unknown = { nhsNumber: '943 476 5919', n: 1 }, type: string = ThingHappened.type, id = randomUUID()) =>
  createEnvelope({ id, type, source: 'urn:sonet:test', subject: randomUUID(), data });

/** A record as the Kafka adapter hands it over: Buffer key, value and headers. */
const recordOf = (env: EventEnvelope, changes: Record<string, string | undefined> = {}, offset = '41'): ReceivedRecord => {
  const w = toWireMessage(env);
  const headers: Record<string, Buffer> = { 'x-origin': Buffer.from('unit-test') };
  for (const [k, v] of Object.entries({ ...w.headers, ...changes })) if (v !== undefined) headers[k] = Buffer.from(v);
  return { topic: TOPIC, partition: 2, offset, key: Buffer.from(w.key), value: w.value, headers };
};

/** A handler that records its calls and writes one business row through the transaction it is given. */
const recordingHandler = (behaviour: (call: number) => void = () => {}) => {
  const calls: { envelope: EventEnvelope; ctx: InboxContext }[] = [];
  const handler: InboxHandler = async (env, ctx) => {
    calls.push({ envelope: env, ctx });
    await ctx.em.execute('insert into effects (event_id) values (?)', [env.id]);
    behaviour(calls.length);
  };
  return { handler, calls };
};

describe('InboxProcessor', () => {
  let db: FakeDatabase;
  let dlq: FakeDlq;
  let logs: { level: string; message: string; extra: Record<string, unknown> }[];

  beforeEach(() => {
    db = new FakeDatabase();
    dlq = new FakeDlq();
    logs = [];
  });

  const processor = (handler: InboxHandler | undefined, options: Partial<InboxProcessorOptions> = {}) =>
    new InboxProcessor(db.orm(), async () => dlq, {
      consumer: 'test-consumer',
      registry,
      resolve: (type) => (type === ThingHappened.type || type === 'test.unregistered.v1' ? handler : undefined),
      backoffMs: 1,
      log: (level, message, extra) => logs.push({ level, message, extra }),
      ...options,
    });

  describe('when a valid event arrives', () => {
    it('runs the handler with the validated data and records the event in the inbox, in one transaction', async () => {
      const { handler, calls } = recordingHandler();
      const env = envelope();

      await expect(processor(handler).handle(recordOf(env))).resolves.toBe('processed');

      expect(calls).toHaveLength(1);
      expect(calls[0]!.envelope.data).toEqual({ nhsNumber: '9434765919', n: 1 }); // normalised by the schema
      expect(calls[0]!.ctx).toMatchObject({ topic: TOPIC, partition: 2, offset: '41' });
      expect([...db.inbox.values()]).toEqual([
        { consumer: 'test-consumer', eventId: env.id, eventType: ThingHappened.type, topic: TOPIC, partition: 2, offset: '41' },
      ]);
      expect(db.effects).toEqual([[env.id]]);
      expect(dlq.records).toEqual([]);
    });
  });

  describe('when the same event id arrives twice', () => {
    it('reports a duplicate and does not run the handler again', async () => {
      const { handler, calls } = recordingHandler();
      const p = processor(handler);
      const env = envelope();

      await expect(p.handle(recordOf(env, {}, '41'))).resolves.toBe('processed');
      await expect(p.handle(recordOf(env, {}, '42'))).resolves.toBe('duplicate');

      expect(calls).toHaveLength(1);
      expect(db.effects).toHaveLength(1);
      expect(db.inbox.size).toBe(1);
    });

    it('still processes it for another consumer group (dedupe is per consumer)', async () => {
      const { handler, calls } = recordingHandler();
      const env = envelope();

      await processor(handler).handle(recordOf(env));
      await expect(processor(handler, { consumer: 'other-consumer' }).handle(recordOf(env))).resolves.toBe('processed');

      expect(calls).toHaveLength(2);
      expect(db.inbox.size).toBe(2);
    });
  });

  describe('when no handler is registered for the type', () => {
    it('skips the event without touching the inbox or the dead-letter topic', async () => {
      const { handler, calls } = recordingHandler();
      await expect(processor(handler).handle(recordOf(envelope({}, ThingIgnored.type)))).resolves.toBe('skipped');
      expect(calls).toEqual([]);
      expect(db.inbox.size).toBe(0);
      expect(dlq.records).toEqual([]);
    });
  });

  describe('when the envelope is invalid', () => {
    it('dead-letters the record to <topic>.dlq with the reason and keeps its key, value and original headers', async () => {
      const { handler, calls } = recordingHandler();
      const env = envelope();
      const record = recordOf(env, { ce_id: undefined });

      await expect(processor(handler).handle(record)).resolves.toBe('dead-lettered');

      expect(calls).toEqual([]);
      expect(db.inbox.size).toBe(0);
      expect(dlq.records).toHaveLength(1);
      const dead = dlq.records[0]!;
      expect(dead.topic).toBe(`${TOPIC}.dlq`);
      expect(dead.message.key).toBe(env.subject);
      expect(dead.message.value.equals(record.value as Buffer)).toBe(true);
      expect(dead.message.headers).toEqual({
        // original headers, as text
        ce_specversion: '1.0',
        ce_type: ThingHappened.type,
        ce_source: 'urn:sonet:test',
        ce_subject: env.subject,
        ce_time: env.time,
        'content-type': 'application/json',
        'x-origin': 'unit-test',
        // why and where from
        'dlq-reason': 'invalid-envelope',
        'dlq-error': expect.stringMatching(/^invalid CloudEvents headers: [\s\S]*→ at id/),
        'dlq-original-topic': TOPIC,
        'dlq-original-partition': '2',
        'dlq-original-offset': '41',
        'dlq-consumer-group': 'test-consumer',
        'dlq-attempts': '0',
        'dlq-failed-at': expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      });
    });

    it('dead-letters a record whose body is not JSON', async () => {
      const record = { ...recordOf(envelope()), value: Buffer.from('not json') };
      await expect(processor(recordingHandler().handler).handle(record)).resolves.toBe('dead-lettered');
      expect(dlq.records[0]!.message.headers).toMatchObject({ 'dlq-reason': 'invalid-envelope', 'dlq-error': 'body is not valid JSON' });
      expect(dlq.records[0]!.message.value.toString()).toBe('not json');
    });

    it('dead-letters a tombstone (no key, no value) with an empty key and body', async () => {
      const record: ReceivedRecord = { ...recordOf(envelope()), key: null, value: null };
      await expect(processor(recordingHandler().handler).handle(record)).resolves.toBe('dead-lettered');
      expect(dlq.records[0]!.message.key).toBe('');
      expect(dlq.records[0]!.message.value.length).toBe(0);
    });
  });

  describe('when the data does not match the schema of its type', () => {
    it('dead-letters it as invalid-data without running the handler, and the reason does not repeat the NHS number', async () => {
      const { handler, calls } = recordingHandler();
      const record = recordOf(envelope({ nhsNumber: '943 476 5918', n: 1 }));

      await expect(processor(handler).handle(record)).resolves.toBe('dead-lettered');

      expect(calls).toEqual([]);
      expect(db.inbox.size).toBe(0);
      const headers = dlq.records[0]!.message.headers;
      expect(headers['dlq-reason']).toBe('invalid-data');
      expect(headers['dlq-attempts']).toBe('0');
      expect(headers['dlq-error']).toMatch(/not a valid NHS number[\s\S]*→ at nhsNumber/);
      expect(headers['dlq-error']).not.toContain('5918');
    });

    it('dead-letters a type that has a handler but no definition in the registry', async () => {
      const record = recordOf(envelope({}, 'test.unregistered.v1'));
      await expect(processor(recordingHandler().handler).handle(record)).resolves.toBe('dead-lettered');
      expect(dlq.records[0]!.message.headers).toMatchObject({
        'dlq-reason': 'invalid-data',
        'dlq-error': 'unknown event type test.unregistered.v1',
      });
    });

    it('passes the data through unvalidated when validateData is off', async () => {
      const { handler, calls } = recordingHandler();
      const record = recordOf(envelope({ anything: 'goes' }));
      await expect(processor(handler, { validateData: false }).handle(record)).resolves.toBe('processed');
      expect(calls[0]!.envelope.data).toEqual({ anything: 'goes' });
    });
  });

  describe('when the handler fails for a while and then succeeds', () => {
    it('retries, rolls back the failed attempts, and processes the event once', async () => {
      const { handler, calls } = recordingHandler((call) => {
        if (call <= 2) throw new Error(`database busy (${call})`);
      });
      const env = envelope();

      await expect(processor(handler, { maxAttempts: 5 }).handle(recordOf(env))).resolves.toBe('processed');

      expect(calls).toHaveLength(3);
      expect(db.effects).toEqual([[env.id]]); // the writes of the two failed attempts were rolled back
      expect(db.inbox.size).toBe(1);
      expect(dlq.records).toEqual([]);
      expect(logs.filter((l) => l.level === 'warn').map((l) => [l.extra.attempt, l.extra.error])).toEqual([
        [1, 'database busy (1)'],
        [2, 'database busy (2)'],
      ]);
    });
  });

  describe('when the handler keeps failing', () => {
    it('dead-letters the event after maxAttempts, leaving no inbox row and no business write', async () => {
      const { handler, calls } = recordingHandler((call) => {
        throw new Error(`still failing (${call})`);
      });

      await expect(processor(handler, { maxAttempts: 3 }).handle(recordOf(envelope()))).resolves.toBe('dead-lettered');

      expect(calls).toHaveLength(3);
      expect(db.inbox.size).toBe(0);
      expect(db.effects).toEqual([]);
      expect(dlq.records[0]!.message.headers).toMatchObject({
        'dlq-reason': 'handler-failed',
        'dlq-error': 'still failing (3)',
        'dlq-attempts': '3',
      });
    });
  });

  describe('when the database or Temporal cannot be reached', () => {
    it.each([
      ['the database refuses connections', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
      [
        'another service of the network is unavailable (the referral service restarting)',
        new DependencyUnavailableError('referral-service', 'the referral service answered 503 for a data key'),
      ],
    ])('rejects at once without dead-lettering when %s, so the offset is not committed and the event comes again', async (_, cause) => {
      const { handler, calls } = recordingHandler(() => {
        throw cause;
      });

      await expect(processor(handler, { maxAttempts: 5 }).handle(recordOf(envelope()))).rejects.toBe(cause);

      expect(calls).toHaveLength(1);
      expect(dlq.records).toEqual([]);
      expect(db.inbox.size).toBe(0);
      expect(db.effects).toEqual([]);
    });
  });

  describe('when the handler throws a PermanentError', () => {
    it('dead-letters the event at once, without retrying, as rejected', async () => {
      const { handler, calls } = recordingHandler(() => {
        throw new PermanentError('referral already closed');
      });

      await expect(processor(handler, { maxAttempts: 5 }).handle(recordOf(envelope()))).resolves.toBe('dead-lettered');

      expect(calls).toHaveLength(1);
      expect(db.effects).toEqual([]);
      expect(db.inbox.size).toBe(0);
      expect(dlq.records[0]!.message.headers).toMatchObject({
        'dlq-reason': 'rejected',
        'dlq-error': 'referral already closed',
        'dlq-attempts': '1',
      });
    });

    it('does not retry a ZodError from the handler either', async () => {
      const { handler, calls } = recordingHandler(() => void z.number().parse('x'));
      await expect(processor(handler, { maxAttempts: 5 }).handle(recordOf(envelope()))).resolves.toBe('dead-lettered');
      expect(calls).toHaveLength(1);
      expect(dlq.records[0]!.message.headers['dlq-attempts']).toBe('1');
    });
  });

  describe('when the dead letter cannot be written', () => {
    it('rejects for an invalid envelope, so the offset is not committed', async () => {
      dlq.failWith = new Error('dlq topic unavailable');
      const record = recordOf(envelope(), { ce_id: undefined });
      await expect(processor(recordingHandler().handler).handle(record)).rejects.toThrow('dlq topic unavailable');
    });

    it('rejects when no publisher can be had for the dead-letter topic', async () => {
      const p = new InboxProcessor(db.orm(), () => Promise.reject(new Error('broker down')), {
        consumer: 'test-consumer',
        registry,
        resolve: () => recordingHandler().handler,
      });
      await expect(p.handle(recordOf(envelope({ nhsNumber: 'nope', n: 1 })))).rejects.toThrow('broker down');
    });

    it('rejects after a handler keeps failing, leaving no inbox row so a redelivery tries again', async () => {
      dlq.failWith = new Error('dlq topic unavailable');
      const { handler } = recordingHandler(() => {
        throw new PermanentError('no');
      });
      await expect(processor(handler).handle(recordOf(envelope()))).rejects.toThrow('dlq topic unavailable');
      expect(db.inbox.size).toBe(0);
    });
  });
});
