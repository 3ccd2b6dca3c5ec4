import { randomUUID } from 'node:crypto';
import { MikroORM, PostgreSqlDriver } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { createEnvelope, defineEvent, dlqTopicOf, EventRegistry, toWireMessage, type TopicName } from '@sonet/contracts';
import { eventually, freshDatabase, integrationSettings, uniqueSuffix } from '@sonet/testing';
import { DeadLetters, deadLetterViews } from './dead-letters/dead-letters';
import { InboxProcessor, PermanentError, type InboxHandler, type Outcome } from './inbox/inbox-processor';
import { KafkaBroker } from './kafka/kafka-broker';
import type { MessageSubscriber } from './port';
import { MESSAGING_SCHEMA_V1 } from './schema';

jest.setTimeout(120_000);

const settings = integrationSettings();
const sfx = uniqueSuffix();
const TOPIC = `test.replay-${sfx}.v1`;
const DLQ = dlqTopicOf(TOPIC);
const GROUP = `test-replay-${sfx}`;

const Probe = defineEvent({
  type: 'test.replay-probe.v1',
  topic: TOPIC as TopicName,
  description: 'Dead-letter replay test event.',
  schema: z.object({ note: z.string() }),
});

/**
 * A poisoned message, a fix, a replay: the message is dead-lettered while the handler refuses it; once the handler
 * accepts it (the "config change"), a replay has it processed exactly once, and a second replay changes nothing.
 */
describe('dead-letter replay on Kafka and PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let orm: MikroORM;
  let broker: KafkaBroker;
  let subscriber: MessageSubscriber;
  let accepting = false;
  const outcomes: { eventId: string; outcome: Outcome }[] = [];
  const handled: string[] = [];

  const handler: InboxHandler = async (envelope) => {
    if (!accepting) throw new PermanentError('the handler does not accept this yet');
    handled.push(envelope.id);
  };

  beforeAll(async () => {
    db = await freshDatabase('replay');
    orm = await MikroORM.init({
      driver: PostgreSqlDriver,
      dbName: db.dbName,
      ...settings.pg,
      entities: [],
      discovery: { warnWhenNoEntities: false },
      pool: { min: 0, max: 5 },
    });
    await orm.em.fork().execute(MESSAGING_SCHEMA_V1);
    broker = new KafkaBroker({ brokers: settings.kafkaBrokers, clientId: `test-replay-${sfx}` });
    await broker.ensureTopics([
      { name: TOPIC, partitions: 1, retentionMs: 3_600_000 },
      { name: DLQ, partitions: 1, retentionMs: 3_600_000 },
    ]);
    const processor = new InboxProcessor(orm, () => broker.publisher(), {
      consumer: GROUP,
      registry: new EventRegistry([Probe]),
      resolve: (type) => (type === Probe.type ? handler : undefined),
      maxAttempts: 2,
      backoffMs: 10,
    });
    subscriber = broker.subscriber({ groupId: GROUP, topics: [TOPIC], fromBeginning: true });
    await subscriber.run(async (record) => {
      const outcome = await processor.handle(record);
      outcomes.push({ eventId: String(record.headers.ce_id ?? ''), outcome });
    });
  });

  afterAll(async () => {
    await subscriber?.stop().catch(() => undefined);
    await broker?.close().catch(() => undefined);
    await orm?.close(true).catch(() => undefined);
    await db?.drop().catch(() => undefined);
  });

  const outcomesOf = (id: string) => outcomes.filter((o) => o.eventId === id).map((o) => o.outcome);

  it('lists the poisoned message without its body, then processes it exactly once after the fix, however often it is replayed', async () => {
    const eventId = randomUUID();
    const referralId = randomUUID();
    const message = toWireMessage(
      createEnvelope({ id: eventId, type: Probe.type, source: 'urn:sonet:test', subject: referralId, data: { note: 'secret body' } }),
    );
    await (await broker.publisher()).publish([{ topic: TOPIC, message }]);
    await eventually(async () => (outcomesOf(eventId).includes('dead-lettered') ? true : undefined), 30_000);

    const deadLetters = new DeadLetters(broker);
    const [listed] = (await deadLetters.list(DLQ)).filter((d) => d.eventId === eventId);
    expect(listed).toMatchObject({
      originalTopic: TOPIC,
      consumerGroup: GROUP,
      eventType: Probe.type,
      key: referralId,
      reason: 'rejected',
      deadLettered: 1,
      sizeBytes: message.value.length,
      originalHeaders: expect.objectContaining({ ce_id: eventId, ce_type: Probe.type }),
    });
    expect(listed?.firstFailureAt).toEqual(listed?.lastFailureAt);
    expect(JSON.stringify(listed)).not.toContain('secret body');

    accepting = true; // the fix
    expect(await deadLetters.replay(listed!.id)).toMatchObject({ eventId });
    await eventually(async () => (outcomesOf(eventId).includes('processed') ? true : undefined), 30_000);
    expect(handled.filter((id) => id === eventId)).toHaveLength(1);

    await deadLetters.replay(listed!.id);
    await eventually(async () => (outcomesOf(eventId).includes('duplicate') ? true : undefined), 30_000);
    expect(handled.filter((id) => id === eventId)).toHaveLength(1);
    expect(outcomesOf(eventId)).toEqual(['dead-lettered', 'processed', 'duplicate']);
  });

  it('bulk replay by topic and reason sends again only the dead letters of that reason', async () => {
    accepting = false;
    const ids = [randomUUID(), randomUUID()];
    await (
      await broker.publisher()
    ).publish(
      ids.map((id) => ({
        topic: TOPIC,
        message: toWireMessage(
          createEnvelope({ id, type: Probe.type, source: 'urn:sonet:test', subject: randomUUID(), data: { note: 'x' } }),
        ),
      })),
    );
    await eventually(async () => (ids.every((id) => outcomesOf(id).includes('dead-lettered')) ? true : undefined), 30_000);
    accepting = true;
    expect(await new DeadLetters(broker).replayAll(DLQ, 'invalid-data')).toEqual([]);
    const replayed = await new DeadLetters(broker).replayAll(DLQ, 'rejected');
    expect(replayed.map((r) => r.eventId)).toEqual(expect.arrayContaining(ids));
    await eventually(async () => (ids.every((id) => outcomesOf(id).includes('processed')) ? true : undefined), 30_000);
    for (const id of ids) expect(handled.filter((h) => h === id)).toHaveLength(1);
  });

  it('groups repeated dead letters of one event: attempts add up, first and last failure kept', () => {
    const at = (offset: string, failedAt: string, attempts: string) => ({
      topic: DLQ,
      partition: 0,
      offset,
      key: 'k',
      value: Buffer.from('{}'),
      headers: {
        ce_id: 'e1',
        'dlq-consumer-group': 'g',
        'dlq-failed-at': failedAt,
        'dlq-attempts': attempts,
        'dlq-reason': 'handler-failed',
      },
    });
    const [v] = deadLetterViews([at('3', '2026-01-01T00:00:00Z', '5'), at('9', '2026-01-02T00:00:00Z', '5')]);
    expect(v).toMatchObject({
      id: `${DLQ}:0:9`,
      attempts: 10,
      deadLettered: 2,
      firstFailureAt: '2026-01-01T00:00:00Z',
      lastFailureAt: '2026-01-02T00:00:00Z',
    });
  });
});
