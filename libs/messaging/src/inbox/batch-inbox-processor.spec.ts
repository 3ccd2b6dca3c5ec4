import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createEnvelope, EventRegistry, toWireMessage, type EventEnvelope } from '@sonet/contracts';
import type { MessagePublisher, OutgoingRecord, ReceivedRecord, RecordBatch } from '../port';
import { BatchInboxProcessor, type InboxBatchHandler } from './batch-inbox-processor';
import { PermanentError } from './inbox-processor';

/*
 * The batch inbox's decisions against an in-memory stand-in for the database that understands its multi-row inbox
 * insert and rolls back when the transaction function throws. Its behaviour on PostgreSQL and Kafka is exercised by
 * the audit service's integration tests.
 */
const TOPIC = 'test.batches.v1';

class FakeDatabase {
  inbox = new Set<string>();

  orm(): MikroORM {
    const fork = () => ({
      transactional: async <T>(fn: (tem: unknown) => Promise<T>): Promise<T> => {
        const before = new Set(this.inbox);
        try {
          return await fn({
            execute: async (sql: string, params: unknown[]) => {
              if (!sql.startsWith('insert into inbox')) throw new Error(`fake: ${sql}`);
              const out: { event_id: string }[] = [];
              for (let i = 0; i < params.length; i += 6) {
                const key = `${String(params[i])}/${String(params[i + 1])}`;
                if (!this.inbox.has(key)) {
                  this.inbox.add(key);
                  out.push({ event_id: String(params[i + 1]) });
                }
              }
              return out;
            },
          });
        } catch (e) {
          this.inbox = before;
          throw e;
        }
      },
    });
    return { em: { fork } } as unknown as MikroORM;
  }
}

const envelope = (): EventEnvelope =>
  createEnvelope({ id: randomUUID(), type: 'test.thing-happened.v1', source: 'urn:test', subject: randomUUID(), data: { n: 1 } });
let offset = 0;
const recordOf = (e: EventEnvelope): ReceivedRecord => ({ topic: TOPIC, partition: 0, offset: String(offset++), ...toWireMessage(e) });
const batchOf = (...records: ReceivedRecord[]): RecordBatch => ({ topic: TOPIC, partition: 0, records });

const setup = (handler: InboxBatchHandler, extra: { batchAttempts?: number; handles?: (type: string) => boolean } = {}) => {
  const db = new FakeDatabase();
  const dead: OutgoingRecord[] = [];
  const publisher: MessagePublisher = { publish: async (r) => void dead.push(...r), disconnect: async () => undefined };
  const processor = new BatchInboxProcessor(db.orm(), async () => publisher, {
    consumer: 'test.group',
    registry: new EventRegistry([]),
    handler,
    validateData: false,
    maxAttempts: 2,
    backoffMs: 1,
    ...extra,
  });
  return { processor, dead };
};

describe('the batch inbox', () => {
  it('hands the new events of a batch to the handler once, in partition order', async () => {
    const seen: string[][] = [];
    const { processor } = setup(async (items) => void seen.push(items.map((i) => i.envelope.id)));
    const [a, b] = [envelope(), envelope()];
    expect(await processor.handleBatch(batchOf(recordOf(a), recordOf(b), recordOf(a)))).toEqual({
      processed: 2,
      duplicates: 1,
      deadLettered: 0,
    });
    expect(await processor.handleBatch(batchOf(recordOf(b)))).toEqual({ processed: 0, duplicates: 1, deadLettered: 0 });
    expect(seen).toEqual([[a.id, b.id]]);
  });

  it('passes the body exactly as received and every header', async () => {
    let got: Buffer | undefined;
    const { processor } = setup(async (items) => void (got = items[0]!.payload));
    const e = envelope();
    await processor.handleBatch(batchOf(recordOf(e)));
    expect(got).toEqual(toWireMessage(e).value);
  });

  it('dead-letters a record that is not a CloudEvent and goes on with the rest', async () => {
    const seen: string[] = [];
    const { processor, dead } = setup(async (items) => void seen.push(...items.map((i) => i.envelope.id)));
    const good = envelope();
    const bad: ReceivedRecord = { topic: TOPIC, partition: 0, offset: String(offset++), key: 'k', value: Buffer.from('{}'), headers: {} };
    expect(await processor.handleBatch(batchOf(bad, recordOf(good)))).toEqual({ processed: 1, duplicates: 0, deadLettered: 1 });
    expect(seen).toEqual([good.id]);
    expect(dead[0]!.message.headers['dlq-reason']).toBe('invalid-envelope');
  });

  it('when a batch keeps failing, handles its records one at a time and dead-letters only the poison one', async () => {
    const poison = envelope();
    const stored: string[] = [];
    const { processor, dead } = setup(async (items) => {
      if (items.some((i) => i.envelope.id === poison.id)) throw new Error('cannot store this one');
      stored.push(...items.map((i) => i.envelope.id));
    });
    const [a, b] = [envelope(), envelope()];
    expect(await processor.handleBatch(batchOf(recordOf(a), recordOf(poison), recordOf(b)))).toEqual({
      processed: 2,
      duplicates: 0,
      deadLettered: 1,
    });
    expect(stored).toEqual([a.id, b.id]);
    expect(dead.map((d) => d.message.headers['dlq-reason'])).toEqual(['handler-failed']);
  });

  it('does not retry a permanent rejection', async () => {
    let calls = 0;
    const { processor, dead } = setup(async () => {
      calls++;
      throw new PermanentError('wrong event');
    });
    await processor.handleBatch(batchOf(recordOf(envelope())));
    expect(calls).toBe(1);
    expect(dead[0]!.message.headers['dlq-reason']).toBe('rejected');
  });

  it('reports the attempts actually made in its dead letters, as the per-record inbox does', async () => {
    const poison = envelope();
    const { processor, dead } = setup(async (items) => {
      if (items.some((i) => i.envelope.id === poison.id)) throw new PermanentError('wrong event');
    });
    await processor.handleBatch(batchOf(recordOf(poison)));
    await processor.handleBatch(batchOf(recordOf(envelope()), recordOf(poison)));
    expect(dead.map((d) => [d.message.headers['dlq-reason'], d.message.headers['dlq-attempts']])).toEqual([
      ['rejected', '1'],
      ['rejected', '1'],
    ]);
  });

  it('rolls the inbox rows back with a failed batch, so a redelivery is processed', async () => {
    let fail = true;
    const { processor } = setup(async () => {
      if (fail) throw new Error('database went away');
    });
    const e = envelope();
    await processor.handleBatch(batchOf(recordOf(e)));
    fail = false;
    expect(await processor.handleBatch(batchOf(recordOf(e)))).toEqual({ processed: 1, duplicates: 0, deadLettered: 0 });
  });

  it('with batchAttempts 1, tries a failing batch once, then each record with its own retries', async () => {
    const poison = envelope();
    const tries: number[] = [];
    const { processor, dead } = setup(
      async (items) => {
        tries.push(items.length);
        if (items.some((i) => i.envelope.id === poison.id)) throw new Error('not yet');
      },
      { batchAttempts: 1 },
    );
    const [a, b] = [envelope(), envelope()];
    expect(await processor.handleBatch(batchOf(recordOf(a), recordOf(poison), recordOf(b)))).toEqual({
      processed: 2,
      duplicates: 0,
      deadLettered: 1,
    });
    // The group of 3 once; then a, poison twice (maxAttempts 2), b.
    expect(tries).toEqual([3, 1, 1, 1, 1]);
    expect(dead.map((d) => d.message.headers['dlq-attempts'])).toEqual(['2']);
  });

  it('skips the types the consumer does not handle, without an inbox row or a call', async () => {
    const seen: string[] = [];
    const { processor } = setup(async (items) => void seen.push(...items.map((i) => i.envelope.id)), { handles: () => false });
    expect(await processor.handleBatch(batchOf(recordOf(envelope())))).toEqual({ processed: 0, duplicates: 0, deadLettered: 0 });
    expect(seen).toEqual([]);
  });
});
