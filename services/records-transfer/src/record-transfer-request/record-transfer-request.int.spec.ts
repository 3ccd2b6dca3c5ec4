import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MikroORM } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import {
  createEnvelope,
  dlqTopicOf,
  Events,
  headerText,
  RecordsTransferCancelRequested,
  RecordsTransferRequested,
  toWireMessage,
} from '@sonet/contracts';
import {
  KafkaBroker,
  KafkaInboxServer,
  MESSAGE_BROKER,
  type MessageBroker,
  type MessagePublisher,
  readTopicsIntoMemory,
} from '@sonet/messaging';
import { createServiceApp, runMigrations } from '@sonet/service-kit';
import { eventually, freshDatabase, integrationSettings, uniqueSuffix, testTokens } from '@sonet/testing';
import { RecordsTransferAppModule } from '../app.module';
import { readRecordsTransferConfig } from '../config';
import { recordsTransferOrmOptions } from '../orm';

/**
 * The records-transfer service against real PostgreSQL and Kafka, with its own database, consumer group and commands
 * topic: on the network's own topic it would also take the running network's requests and start their workflows on
 * this suite's task queue, where no worker runs them.
 */
describe('records-transfer consuming transfer requests', () => {
  const settings = integrationSettings();
  const topic = `records.commands.test-${uniqueSuffix()}`;
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let app: NestFastifyApplication;
  let url: string;
  let broker: KafkaBroker;
  let publisher: MessagePublisher;
  let dlq: Awaited<ReturnType<typeof readTopicsIntoMemory>>;

  let tokens: Awaited<ReturnType<typeof testTokens>>;

  beforeAll(async () => {
    tokens = await testTokens();
    db = await freshDatabase('records_transfer');
    const config = readRecordsTransferConfig({
      ...tokens.env,
      PGHOST: settings.pg.host,
      PGPORT: String(settings.pg.port),
      PGUSER: settings.pg.user,
      PGPASSWORD: settings.pg.password,
      PGDATABASE: db.dbName,
      KAFKA_BROKERS: settings.kafkaBrokers.join(','),
      KAFKA_CONSUMER_GROUP: `records-transfer.test-${uniqueSuffix()}`,
      LOG_LEVEL: 'warn',
      // These requests name no receiving organisation: no workflow starts, and no worker is needed here.
      RUN_WORKER: 'false',
      TEMPORAL_TASK_QUEUE: `records-transfer-test-${uniqueSuffix()}`,
      RECORDS_CONNECTORS_JSON: JSON.stringify({
        trusts: [{ ods: 'RJ1', fhir: { baseUrl: 'http://127.0.0.1:9/fhir/RJ1' }, dicomweb: { baseUrl: 'http://127.0.0.1:9/dicom-web' } }],
      }),
    });
    await runMigrations(recordsTransferOrmOptions(config));
    broker = new KafkaBroker({ brokers: settings.kafkaBrokers, clientId: 'records-transfer-test' });
    await broker.ensureTopics([topic, dlqTopicOf(topic)].map((name) => ({ name, partitions: 3, retentionMs: 3_600_000 })));
    app = await createServiceApp({
      module: RecordsTransferAppModule.forRoot(config),
      host: '127.0.0.1',
      port: 0,
      openApi: { title: 't', description: 't', version: '1' },
      transport: (a) =>
        new KafkaInboxServer(a.get(MikroORM), a.get<MessageBroker>(MESSAGE_BROKER), {
          groupId: config.KAFKA_CONSUMER_GROUP,
          topics: [topic],
          registry: Events,
          backoffMs: 10,
        }),
    });
    url = await app.getUrl();
    publisher = await broker.publisher();
    dlq = await readTopicsIntoMemory(settings.kafkaBrokers, [dlqTopicOf(topic)]);
  });

  afterAll(async () => {
    await dlq?.stop();
    await broker?.close();
    await app?.close();
    await db?.drop();
  });

  const transferCommand = (referralId: string) =>
    createEnvelope({
      id: randomUUID(),
      type: RecordsTransferRequested.type,
      source: '/sonet/referral',
      subject: referralId,
      data: {
        referralId,
        transferId: randomUUID(),
        sourceOrganisation: 'RJ122',
        targetOrganisation: null,
        documentKinds: ['test-results', 'imaging'],
        lawfulBasis: { basis: 'explicit-consent', recordedAt: new Date().toISOString() },
        requestedAt: new Date().toISOString(),
      },
    });

  const transfersOf = async (referralId: string, as: [Parameters<typeof tokens.bearer>[0], string] = ['ops', 'X26']) => {
    const res = await fetch(`${url}/v1/transfers?referralId=${referralId}`, { headers: await tokens.bearer(...as) });
    return ((await res.json()) as { items: { transferId: string; status: string }[] }).items;
  };

  it('records a transfer request once, however often Kafka delivers it', async () => {
    const referralId = randomUUID();
    const command = transferCommand(referralId);
    const wire = toWireMessage(command);
    await publisher.publish([{ topic, message: wire }]);
    await publisher.publish([{ topic, message: wire }]);
    // A later command on the same partition proves both deliveries were consumed before we count.
    const marker = transferCommand(referralId);
    await publisher.publish([{ topic, message: toWireMessage(marker) }]);
    const items = await eventually(async () => {
      const t = await transfersOf(referralId);
      return t.length === 2 ? t : undefined;
    });
    expect(items.map((t) => t.transferId).sort()).toEqual([command.data.transferId, marker.data.transferId].sort());
    expect(items.every((t) => t.status === 'awaiting-target')).toBe(true);
  });

  it('records who read the transfer manifest as an access event, through the outbox', async () => {
    const referralId = randomUUID();
    const command = transferCommand(referralId);
    await publisher.publish([{ topic, message: toWireMessage(command) }]);
    await eventually(async () => ((await transfersOf(referralId, ['ops', 'X26'])).length === 1 ? true : undefined));
    const rows = await app
      .get(MikroORM)
      .em.fork()
      .execute<{ key: string; value: string }[]>(`select key, value from outbox where event_type = 'access.recorded.v1' and key = ?`, [
        referralId,
      ]);
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(rows[0]!.value)).toMatchObject({
      referralId,
      actor: { role: 'ops', organisation: 'X26' },
      purpose: 'operations',
      resource: { service: 'records-transfer', kind: 'transfer-manifest', action: 'read' },
    });
  });

  it('records no access when nothing about the referral was shown', async () => {
    const referralId = randomUUID();
    expect(await transfersOf(referralId)).toEqual([]);
    const rows = await app.get(MikroORM).em.fork().execute(`select 1 from outbox where key = ?`, [referralId]);
    expect(rows).toEqual([]);
  });

  it('dead-letters a command that breaks its contract, with the reason, and goes on', async () => {
    const referralId = randomUUID();
    const bad = transferCommand(referralId);
    const wire = toWireMessage({ ...bad, data: { ...bad.data, lawfulBasis: undefined } });
    await publisher.publish([{ topic, message: wire }]);
    const good = transferCommand(referralId);
    await publisher.publish([{ topic, message: toWireMessage(good) }]);
    const dead = await eventually(async () => dlq.records.find((r) => headerText(r.headers.ce_id) === bad.id));
    expect(headerText(dead.headers['dlq-reason'])).toBe('invalid-data');
    expect(headerText(dead.headers['dlq-error'])).toMatch(/lawfulBasis/);
    const items = await eventually(async () => {
      const t = await transfersOf(referralId);
      return t.length === 1 ? t : undefined;
    });
    expect(items[0]!.transferId).toBe(good.data.transferId);
  });

  it('answers a bad referral id with 400 problem+json', async () => {
    const res = await fetch(`${url}/v1/transfers?referralId=not-a-uuid`, { headers: await tokens.bearer('ops', 'X26') });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('is ready when its database and Kafka answer', async () => {
    const res = await fetch(`${url}/health/ready`);
    expect(res.status).toBe(200);
  });

  it("shows a clinician the transfers from or to their organisation only, and a GP those of their practice's referrals", async () => {
    const referralId = randomUUID();
    await publisher.publish([{ topic, message: toWireMessage(transferCommand(referralId)) }]);
    await eventually(async () => ((await transfersOf(referralId)).length === 1 ? true : undefined));
    expect(await transfersOf(referralId, ['clinician', 'RJ1'])).toHaveLength(1);
    expect(await transfersOf(referralId, ['clinician', 'RXF'])).toHaveLength(0);
    // The command names no referring practice: no GP sees it. (A patient has no view of transfers.)
    expect(await transfersOf(referralId, ['gp', 'A81001'])).toHaveLength(0);
    const asPatient = await fetch(`${url}/v1/transfers?referralId=${referralId}`, {
      headers: await tokens.bearer('patient', 'A81001', '9991000011'),
    });
    expect(asPatient.status).toBe(403);
  });

  it('cancels a transfer when the referral no longer needs it (withdrawn or sent elsewhere)', async () => {
    const referralId = randomUUID();
    const command = transferCommand(referralId);
    await publisher.publish([{ topic, message: toWireMessage(command) }]);
    const cancel = createEnvelope({
      id: randomUUID(),
      type: RecordsTransferCancelRequested.type,
      source: '/sonet/referral',
      subject: referralId,
      data: { referralId, transferId: command.data.transferId, reason: 'referral withdrawn' },
    });
    await publisher.publish([{ topic, message: toWireMessage(cancel) }]);
    const items = await eventually(async () => {
      const t = await transfersOf(referralId);
      return t.length === 1 && t[0]!.status === 'cancelled' ? t : undefined;
    });
    expect(items[0]!.transferId).toBe(command.data.transferId);
  });
});
