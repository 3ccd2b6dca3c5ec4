import type { MikroORM } from '@mikro-orm/postgresql';
import type { EventRegistry } from '@sonet/contracts';
import { BatchInboxProcessor } from '../inbox/batch-inbox-processor';
import { InboxProcessor } from '../inbox/inbox-processor';
import type { BatchHandler, ReceivedRecord, MessageBroker } from '../port';
import { KafkaInboxServer, type InboxRpcContext } from './kafka-inbox.server';
import type { InboxBatchItem, BatchInboxProcessorOptions } from '../inbox/batch-inbox-processor';

/** A broker whose subscription hands the server's batch handler to the test instead of reading Kafka. */
function capturingBroker(): { broker: MessageBroker; handler: () => BatchHandler } {
  let captured: BatchHandler | undefined;
  const broker = {
    subscriber: () => ({
      run: () => new Promise<void>(() => undefined),
      runBatches: (h: BatchHandler) => {
        captured = h;
        return new Promise<void>(() => undefined);
      },
      stop: () => Promise.resolve(),
    }),
    publisher: () => Promise.reject(new Error('not in this test')),
    consumerLag: () => Promise.resolve([]),
  } as unknown as MessageBroker;
  return { broker, handler: () => captured! };
}

const record = (topic: string, offset: number) => ({ topic, partition: 0, offset: String(offset) }) as unknown as ReceivedRecord;

describe('KafkaInboxServer with records grouped per transaction', () => {
  afterEach(() => jest.restoreAllMocks());

  it('groups only the named topics; the others go one record per transaction, in order', async () => {
    const grouped = jest
      .spyOn(BatchInboxProcessor.prototype, 'handleBatch')
      .mockResolvedValue({ processed: 0, duplicates: 0, deadLettered: 0 });
    const handled: string[] = [];
    jest.spyOn(InboxProcessor.prototype, 'handle').mockImplementation(async (r: ReceivedRecord) => {
      handled.push(`${r.topic}@${r.offset}`);
      return 'processed' as never;
    });
    const { broker, handler } = capturingBroker();
    const server = new KafkaInboxServer({} as MikroORM, broker, {
      groupId: 'g',
      topics: ['signals', 'stuck-list'],
      registry: {} as EventRegistry,
      recordsPerTransaction: 100,
      groupedTopics: ['stuck-list'],
    });
    server.listen(() => undefined);

    const stuck = { topic: 'stuck-list', partition: 0, records: [record('stuck-list', 1), record('stuck-list', 2)] };
    await handler()(stuck);
    await handler()({ topic: 'signals', partition: 0, records: [record('signals', 7), record('signals', 8)] });

    expect(grouped).toHaveBeenCalledTimes(1);
    expect(grouped).toHaveBeenCalledWith(stuck);
    expect(handled).toEqual(['signals@7', 'signals@8']);
  });

  it('groups every topic when none is named', async () => {
    const grouped = jest
      .spyOn(BatchInboxProcessor.prototype, 'handleBatch')
      .mockResolvedValue({ processed: 0, duplicates: 0, deadLettered: 0 });
    const single = jest.spyOn(InboxProcessor.prototype, 'handle');
    const { broker, handler } = capturingBroker();
    new KafkaInboxServer({} as MikroORM, broker, {
      groupId: 'g',
      topics: ['a', 'b'],
      registry: {} as EventRegistry,
      recordsPerTransaction: 10,
    }).listen(() => undefined);
    await handler()({ topic: 'a', partition: 0, records: [record('a', 1)] });
    await handler()({ topic: 'b', partition: 0, records: [record('b', 1)] });
    expect(grouped).toHaveBeenCalledTimes(2);
    expect(single).not.toHaveBeenCalled();
  });

  it('runs the work handlers leave for the end once, after every handler of the group and before its commit', async () => {
    const order: string[] = [];
    let failWork = false;
    jest.spyOn(BatchInboxProcessor.prototype, 'handleBatch').mockImplementation(async function (this: BatchInboxProcessor, batch) {
      const { handler } = (this as unknown as { options: BatchInboxProcessorOptions }).options;
      const items = batch.records.map(
        (r): InboxBatchItem =>
          ({ envelope: { id: `e${r.offset}`, type: 'x' }, topic: r.topic, partition: 0, offset: r.offset, headers: {} }) as never,
      );
      await handler(items, { em: {} as never, topic: batch.topic, partition: 0 });
      order.push('commit');
      return { processed: items.length, duplicates: 0, deadLettered: 0 };
    });
    const { broker, handler } = capturingBroker();
    const server = new KafkaInboxServer({} as MikroORM, broker, {
      groupId: 'g',
      topics: ['a'],
      registry: {} as EventRegistry,
      recordsPerTransaction: 10,
    });
    server.addHandler(
      'x',
      async (envelope: { id: string }, ctx: InboxRpcContext) => {
        order.push(`handle ${envelope.id}`);
        ctx.inbox.beforeCommit!(async () => {
          order.push(`work ${envelope.id}`);
          if (failWork) throw new Error('write failed');
        });
      },
      true,
    );
    server.listen(() => undefined);
    await handler()({ topic: 'a', partition: 0, records: [record('a', 1), record('a', 2)] });
    expect(order).toEqual(['handle e1', 'handle e2', 'work e1', 'work e2', 'commit']);

    // Failing work fails the group (its transaction rolls back; the processor then tries record by record).
    order.length = 0;
    failWork = true;
    await expect(handler()({ topic: 'a', partition: 0, records: [record('a', 3)] })).rejects.toThrow('write failed');
    expect(order).toEqual(['handle e3', 'work e3']);
  });
});
