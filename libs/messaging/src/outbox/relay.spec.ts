import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { MessagePublisher, OutgoingRecord } from '../port';
import { OutboxRelay } from './relay';

/*
 * Unit tests of the relay's logic against a tiny in-memory stand-in for the outbox table. The fake
 * understands only the statements the relay issues (matched on their prefix) and fails on anything else,
 * so a change of SQL shows up here. What SQL itself guarantees (ordering by seq, SKIP LOCKED, the
 * advisory lock across processes, parameter binding) is covered by outbox.int.spec.ts on PostgreSQL.
 */

interface OutboxRow {
  seq: number;
  id: string;
  topic: string;
  key: string;
  headers: Record<string, string>;
  value: string;
  published_at: Date | null;
}

const squash = (sql: string) => sql.replace(/\s+/g, ' ').trim();

class FakeOutboxTable {
  rows: OutboxRow[] = [];
  /** Set to simulate another relay (another replica) holding the advisory lock. */
  lockHeldElsewhere = false;
  readonly lockKeysAsked: unknown[] = [];
  /** Every statement issued, whitespace squashed. */
  readonly statements: string[] = [];
  private nextSeq = 1;

  add(n: number, topic = 'test.events.v1'): OutboxRow[] {
    const added: OutboxRow[] = [];
    for (let i = 0; i < n; i++) {
      const seq = this.nextSeq++;
      const row: OutboxRow = {
        seq,
        id: randomUUID(),
        topic,
        key: `key-${seq % 3}`,
        headers: { ce_id: `id-${seq}`, 'content-type': 'application/json' },
        value: JSON.stringify({ seq }),
        published_at: null,
      };
      added.push(row);
    }
    // Store them out of order: the relay must rely on "order by seq", not on storage order.
    this.rows.push(...[...added].reverse());
    return added;
  }

  unpublishedIds(): string[] {
    return this.rows
      .filter((r) => r.published_at === null)
      .sort((a, b) => a.seq - b.seq)
      .map((r) => r.id);
  }

  publishedIds(): string[] {
    return this.rows
      .filter((r) => r.published_at !== null)
      .sort((a, b) => a.seq - b.seq)
      .map((r) => r.id);
  }

  private async execute(sql: string, params: readonly unknown[] = [], inTransaction: boolean): Promise<unknown[]> {
    const q = squash(sql);
    this.statements.push(q);
    if (q.startsWith('select pg_try_advisory_xact_lock(')) {
      if (!inTransaction) throw new Error('fake: an xact lock outside a transaction is released at once');
      this.lockKeysAsked.push(params[0]);
      return [{ locked: !this.lockHeldElsewhere }];
    }
    if (q.startsWith('select id, topic, key, headers, value from outbox where published_at is null order by seq limit ?')) {
      const limit = Number(params[0]);
      return this.rows
        .filter((r) => r.published_at === null)
        .sort((a, b) => a.seq - b.seq)
        .slice(0, limit)
        .map(({ id, topic, key, headers, value }) => ({ id, topic, key, headers: { ...headers }, value }));
    }
    if (q.startsWith('update outbox set published_at = now() where id')) {
      if (!inTransaction) throw new Error('fake: rows must be marked in the transaction that locked them');
      // Accept either one array parameter or one parameter per id.
      const ids = new Set(params.flat() as string[]);
      for (const r of this.rows) if (ids.has(r.id)) r.published_at = new Date();
      return [];
    }
    if (q.startsWith('select count(*) as n from outbox where published_at is null')) {
      return [{ n: String(this.rows.filter((r) => r.published_at === null).length) }];
    }
    throw new Error(`fake outbox table does not understand: ${q}`);
  }

  /** A stand-in for MikroORM: `em.fork()` gives `execute` and `transactional` (rolled back when fn throws). */
  orm(): MikroORM {
    const fork = () => ({
      execute: (sql: string, params?: unknown[]) => this.execute(sql, params, false),
      transactional: async <T>(fn: (tem: unknown) => Promise<T>): Promise<T> => {
        const snapshot = this.rows.map((r) => ({ ...r }));
        try {
          return await fn({ execute: (sql: string, params?: unknown[]) => this.execute(sql, params, true) });
        } catch (e) {
          this.rows = snapshot;
          throw e;
        }
      },
    });
    return { em: { fork } } as unknown as MikroORM;
  }
}

class FakePublisher implements MessagePublisher {
  readonly batches: OutgoingRecord[][] = [];
  /** Replace to make publish fail, hang or inspect the table while "in flight". */
  behaviour: (records: readonly OutgoingRecord[]) => Promise<void> = async () => {};

  async publish(records: readonly OutgoingRecord[]): Promise<void> {
    this.batches.push([...records]);
    await this.behaviour(records);
  }

  async disconnect(): Promise<void> {}

  idsPublished(): string[] {
    return this.batches.flat().map((r) => r.message.headers.ce_id as string);
  }
}

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

const waitFor = async (condition: () => boolean, timeoutMs = 2_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 1));
  }
};

describe('OutboxRelay', () => {
  let table: FakeOutboxTable;
  let publisher: FakePublisher;

  beforeEach(() => {
    table = new FakeOutboxTable();
    publisher = new FakePublisher();
  });

  describe('when the outbox has unpublished rows', () => {
    it('publishes them in seq order as Kafka records carrying topic, key, headers and value', async () => {
      const rows = table.add(4, 'referral.events.v1');
      const relay = new OutboxRelay(table.orm(), publisher);

      await expect(relay.publishBatch()).resolves.toBe(4);

      expect(publisher.batches).toHaveLength(1);
      expect(publisher.batches[0]).toEqual(
        rows.map((r) => ({
          topic: 'referral.events.v1',
          message: { key: r.key, value: Buffer.from(r.value, 'utf8'), headers: r.headers },
        })),
      );
      expect(table.publishedIds()).toEqual(rows.map((r) => r.id));
    });

    it('skips rows that are already published', async () => {
      const [first, ...rest] = table.add(3);
      first!.published_at = new Date();
      const relay = new OutboxRelay(table.orm(), publisher);

      await expect(relay.publishBatch()).resolves.toBe(2);
      expect(publisher.batches[0]!.map((r) => r.message.headers.ce_id)).toEqual(rest.map((r) => r.headers.ce_id));
    });

    it('publishes at most batchSize rows per batch and the rest in the following batches', async () => {
      const rows = table.add(5);
      const relay = new OutboxRelay(table.orm(), publisher, { batchSize: 2 });

      const counts = [];
      for (let i = 0; i < 4; i++) counts.push(await relay.publishBatch());

      expect(counts).toEqual([2, 2, 1, 0]);
      expect(publisher.batches.map((b) => b.length)).toEqual([2, 2, 1]);
      expect(publisher.idsPublished()).toEqual(rows.map((r) => r.headers.ce_id));
    });

    it('marks rows published only after the publisher has acknowledged them', async () => {
      const rows = table.add(3);
      const seenWhileInFlight: string[][] = [];
      publisher.behaviour = async () => void seenWhileInFlight.push(table.unpublishedIds());
      const relay = new OutboxRelay(table.orm(), publisher);

      await relay.publishBatch();

      expect(seenWhileInFlight).toEqual([rows.map((r) => r.id)]);
      expect(table.unpublishedIds()).toEqual([]);
    });

    it('reports the backlog of unpublished rows', async () => {
      table.add(3);
      const relay = new OutboxRelay(table.orm(), publisher, { batchSize: 2 });
      await expect(relay.backlog()).resolves.toBe(3);
      await relay.publishBatch();
      await expect(relay.backlog()).resolves.toBe(1);
    });
  });

  describe('when publishing fails', () => {
    it('marks nothing, rejects, and sends the same rows again on the next batch', async () => {
      const rows = table.add(3);
      publisher.behaviour = async () => {
        throw new Error('broker unavailable');
      };
      const relay = new OutboxRelay(table.orm(), publisher);

      await expect(relay.publishBatch()).rejects.toThrow('broker unavailable');
      expect(table.unpublishedIds()).toEqual(rows.map((r) => r.id));

      publisher.behaviour = async () => {};
      await expect(relay.publishBatch()).resolves.toBe(3);
      expect(publisher.batches[1]!.map((r) => r.message.headers.ce_id)).toEqual(rows.map((r) => r.headers.ce_id));
      expect(table.unpublishedIds()).toEqual([]);
    });

    it('keeps running, reports the error through onError and publishes once the broker is back', async () => {
      const rows = table.add(3);
      let failuresLeft = 2;
      publisher.behaviour = async () => {
        if (failuresLeft-- > 0) throw new Error('broker unavailable');
      };
      const errors: Error[] = [];
      const relay = new OutboxRelay(table.orm(), publisher, { idleMs: 1, onError: (e) => errors.push(e) });

      relay.start();
      try {
        await waitFor(() => table.unpublishedIds().length === 0);
      } finally {
        await relay.stop();
      }

      expect(errors.map((e) => e.message)).toEqual(['broker unavailable', 'broker unavailable']);
      expect(publisher.batches).toHaveLength(3);
      expect(table.publishedIds()).toEqual(rows.map((r) => r.id));
    });
  });

  describe('when another relay holds the advisory lock', () => {
    it('returns 0 without reading, publishing or marking anything', async () => {
      const rows = table.add(3);
      table.lockHeldElsewhere = true;
      const relay = new OutboxRelay(table.orm(), publisher);

      await expect(relay.publishBatch()).resolves.toBe(0);

      expect(publisher.batches).toEqual([]);
      expect(table.unpublishedIds()).toEqual(rows.map((r) => r.id));
      expect(table.statements).toEqual([expect.stringMatching(/^select pg_try_advisory_xact_lock\(/)]);
    });

    it('asks for the configured lock key, or "OUTX" by default', async () => {
      await new OutboxRelay(table.orm(), publisher).publishBatch();
      await new OutboxRelay(table.orm(), publisher, { lockKey: 42 }).publishBatch();
      expect(table.lockKeysAsked).toEqual([0x50_4e_4f_58, 42]);
    });
  });

  describe('when the outbox is empty', () => {
    it('returns 0 and does not call the publisher', async () => {
      const relay = new OutboxRelay(table.orm(), publisher);
      await expect(relay.publishBatch()).resolves.toBe(0);
      expect(publisher.batches).toEqual([]);
    });
  });

  describe('when stopped while a batch is in flight', () => {
    it('waits for that batch to be acknowledged and marked, then publishes nothing more', async () => {
      const rows = table.add(2);
      const gate = deferred();
      publisher.behaviour = () => gate.promise;
      const relay = new OutboxRelay(table.orm(), publisher, { batchSize: 2, idleMs: 1 });

      relay.start();
      await waitFor(() => publisher.batches.length === 1);
      table.add(2); // more work that a relay which did not stop would pick up at once
      let stopped = false;
      const stopping = relay.stop().then(() => (stopped = true));

      await new Promise((r) => setTimeout(r, 20));
      expect(stopped).toBe(false);
      expect(table.publishedIds()).toEqual([]);

      gate.resolve();
      await stopping;

      expect(table.publishedIds()).toEqual(rows.map((r) => r.id));
      expect(publisher.batches).toHaveLength(1);
      expect(table.unpublishedIds()).toHaveLength(2);
    });

    it('can be started again and then publishes what is left', async () => {
      table.add(1);
      const relay = new OutboxRelay(table.orm(), publisher, { idleMs: 1 });
      relay.start();
      await waitFor(() => table.unpublishedIds().length === 0);
      await relay.stop();

      table.add(2);
      relay.start();
      try {
        await waitFor(() => table.unpublishedIds().length === 0);
      } finally {
        await relay.stop();
      }
      expect(publisher.idsPublished()).toHaveLength(3);
    });
  });

  describe('when stopped while idle', () => {
    it('returns promptly instead of waiting out the idle pause', async () => {
      const relay = new OutboxRelay(table.orm(), publisher, { idleMs: 60_000 });
      relay.start();
      await new Promise((r) => setTimeout(r, 10));
      const started = Date.now();
      await relay.stop();
      expect(Date.now() - started).toBeLessThan(1_000);
    });
  });
});
