import { connect, Socket } from 'node:net';
import type { ISocketFactory } from 'kafkajs';
import { eventually, freePort, integrationSettings, uniqueSuffix } from '@sonet/testing';
import type { MessagePublisher, MessageSubscriber, ReceivedRecord } from '../port';
import { KafkaBroker } from './kafka-broker';

/**
 * A client cut off from the broker (every connection closed, new ones refused) and then let back: issue 13 asks that
 * consumers resume within 5 s of Kafka coming back, and so should publishing. The cut is on this client's side (its
 * socket factory), so the shared broker and everyone else's tests are untouched; the topic and group are this test's.
 */
class Cut {
  private down = false;
  private readonly open = new Set<Socket>();

  constructor(private readonly deadPort: number) {}

  readonly factory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = this.down ? connect({ host: '127.0.0.1', port: this.deadPort }) : connect({ host, port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    this.open.add(socket);
    socket.on('close', () => this.open.delete(socket));
    return socket;
  };

  sever(): void {
    this.down = true;
    // As a killed broker's connections end: reset under the client.
    for (const s of this.open) s.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
  }

  restore(): void {
    this.down = false;
  }
}

/** Longer than a consumer's session (10 s): the broker has dropped the member by the time it is back. */
const OUTAGE_MS = 15_000;

describe('a Kafka client cut off from the broker and let back', () => {
  const { kafkaBrokers } = integrationSettings();
  const sfx = uniqueSuffix();
  const topic = `test.reconnect.${sfx}`;
  let cut: Cut;
  let severed: KafkaBroker;
  let healthy: KafkaBroker;
  let subscriber: MessageSubscriber;
  let producer: MessagePublisher;
  const received: string[] = [];

  const send = (p: MessagePublisher, value: string) =>
    p.publish([{ topic, message: { key: 'k', value: Buffer.from(value), headers: {} } }]);
  const arrived = (value: string) => eventually(async () => (received.includes(value) ? true : undefined), 30_000, 50);

  beforeAll(async () => {
    // A port nothing listens on: connections to it are refused.
    cut = new Cut(await freePort());
    healthy = new KafkaBroker({ brokers: kafkaBrokers, clientId: `test-reconnect-healthy-${sfx}` });
    await healthy.ensureTopics([{ name: topic, partitions: 1, retentionMs: 3_600_000 }]);
    producer = await healthy.publisher();
    severed = new KafkaBroker({ brokers: kafkaBrokers, clientId: `test-reconnect-${sfx}`, socketFactory: cut.factory });
    subscriber = severed.subscriber({ groupId: `test.reconnect-${sfx}`, topics: [topic], fromBeginning: true });
    await subscriber.run(async (r: ReceivedRecord) => void received.push(r.value?.toString() ?? ''));
    await send(producer, 'before');
    await arrived('before');
  });

  afterAll(async () => {
    cut.restore();
    await severed?.close();
    await healthy?.close();
  });

  it(`consumes again within 5 s of the broker coming back after ${OUTAGE_MS / 1000} s away, and publishes again`, async () => {
    const publishing = await severed.publisher();
    cut.sever();
    await send(producer, 'during');
    // A publish during the outage fails once the client's connection retries are spent; the outbox relay then
    // tries again (at most 2 s later): what matters is that the client publishes again once the broker is back.
    await expect(send(publishing, 'lost-in-outage')).rejects.toThrow();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    expect(received).not.toContain('during');

    const back = Date.now();
    cut.restore();
    await arrived('during');
    const consumedAfter = Date.now() - back;
    await send(publishing, 'after');
    const publishedAfter = Date.now() - back;
    await arrived('after');
    expect(consumedAfter).toBeLessThan(5_000);
    expect(publishedAfter).toBeLessThan(5_000);
  });
});
