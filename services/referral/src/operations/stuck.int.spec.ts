import { randomBytes, randomUUID } from 'node:crypto';
import { MikroORM } from '@mikro-orm/postgresql';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createEnvelope, Events, NotificationFailed, NotificationSent, toWireMessage } from '@sonet/contracts';
import { KafkaBroker, KafkaInboxServer, MESSAGE_BROKER, type MessageBroker, type MessagePublisher } from '@sonet/messaging';
import { createServiceApp, runMigrations } from '@sonet/service-kit';
import {
  eventually,
  freshDatabase,
  integrationSettings,
  quietTemporalRuntime,
  secondOpinionRequest,
  teardown,
  teardownTimeout,
  testTokens,
  uniqueSuffix,
} from '@sonet/testing';
import { ReferralAppModule } from '../app.module';
import { readReferralConfig } from '../config';
import { seedDirectory } from '../directory/seed';
import { referralOrmOptions } from '../orm';
import type { StuckAnswer } from './stuck.handler';

/**
 * GET /v1/ops/stuck beyond overdue steps, against the real PostgreSQL, Kafka and Temporal: a local activity that keeps
 * failing (Temporal's pending activities never show local ones) is listed until it recovers, and a notification the
 * notification service gave up on (notification.failed.v1, on this suite's own topic) is listed once, until it is sent.
 */
describe('the stuck list: failing local activities and undeliverable notifications', () => {
  const settings = integrationSettings();
  const topic = `notification.events.test-${uniqueSuffix()}`;
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let app: NestFastifyApplication;
  let url: string;
  let orm: MikroORM;
  let broker: KafkaBroker;
  let publisher: MessagePublisher;
  let tokens: Awaited<ReturnType<typeof testTokens>>;

  beforeAll(async () => {
    quietTemporalRuntime();
    tokens = await testTokens();
    db = await freshDatabase('referral_stuck');
    const config = readReferralConfig({
      ...tokens.env,
      PGHOST: settings.pg.host,
      PGPORT: String(settings.pg.port),
      PGUSER: settings.pg.user,
      PGPASSWORD: settings.pg.password,
      PGDATABASE: db.dbName,
      KAFKA_BROKERS: settings.kafkaBrokers.join(','),
      TEMPORAL_ADDRESS: settings.temporalAddress,
      TEMPORAL_TASK_QUEUE: `test-stuck-${uniqueSuffix()}`,
      KAFKA_CONSUMER_GROUP: `test-stuck-${uniqueSuffix()}`,
      TEMPORAL_PAYLOAD_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'error',
    });
    await runMigrations(referralOrmOptions(config));
    orm = await MikroORM.init(referralOrmOptions(config));
    await seedDirectory(orm.em.fork());
    broker = new KafkaBroker({ brokers: settings.kafkaBrokers, clientId: 'referral-stuck-test' });
    await broker.ensureTopics([{ name: topic, partitions: 1, retentionMs: 3_600_000 }]);
    app = await createServiceApp({
      module: ReferralAppModule.forRoot(config),
      host: '127.0.0.1',
      port: 0,
      openApi: { title: 't', description: 't', version: '1' },
      transport: (a) =>
        new KafkaInboxServer(a.get(MikroORM), a.get<MessageBroker>(MESSAGE_BROKER), {
          groupId: config.KAFKA_CONSUMER_GROUP,
          topics: [topic],
          // As main.ts wires notification outcomes: a partition's events in one transaction.
          recordsPerTransaction: config.KAFKA_RECORDS_PER_TRANSACTION,
          groupedTopics: [topic],
          registry: Events,
          backoffMs: 10,
        }),
    });
    url = await app.getUrl();
    publisher = await broker.publisher();
  }, 120_000);

  afterAll(async () => {
    await teardown([
      ['injected failure', () => orm?.em.fork().execute('drop trigger if exists fail_referred on outbox')],
      ['referral app', () => app?.close()],
      ['ORM', () => orm?.close(true)],
      ['Kafka producer', () => broker?.close()],
      ['database', () => db?.drop()],
    ]);
  }, teardownTimeout(5));

  const stuck = async (): Promise<StuckAnswer> => {
    const res = await fetch(`${url}/v1/ops/stuck`, { headers: await tokens.bearer('ops', 'X26') });
    expect(res.status).toBe(200);
    return (await res.json()) as StuckAnswer;
  };
  const asGp = async () => ({ 'content-type': 'application/json', ...(await tokens.bearer('gp', 'A81001')) });

  it('lists a workflow whose local activity keeps failing, with its Temporal link, until the activity recovers', async () => {
    const created = await fetch(`${url}/v1/referrals`, {
      method: 'POST',
      headers: await asGp(),
      body: JSON.stringify(secondOpinionRequest({ name: 'Stuck Patient', email: `stuck-${uniqueSuffix()}@patients.example` })),
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    const state = async () =>
      ((await orm.em.fork().execute<{ state: string }[]>('select state from referral where id = ?', [id]))[0] ?? { state: '' }).state;
    await eventually(async () => ((await state()) === 'gp-review' ? true : undefined), 30_000);
    // The refer step's write (read model, timeline and outbox in one transaction) fails until the trigger goes.
    await orm.em.fork().execute(`
      create function fail_referred() returns trigger language plpgsql as $$
      begin
        if new.event_type like 'referral.referred.%' then raise exception 'injected failure'; end if;
        return new;
      end $$;
      create trigger fail_referred before insert on outbox for each row execute function fail_referred();`);
    // The decision waits on the failing step: its answer does not matter here, only what operations see meanwhile.
    const decision = fetch(`${url}/v1/referrals/${id}/gp-decision`, {
      method: 'POST',
      headers: await asGp(),
      body: JSON.stringify({ decision: 'refer', targetTeamId: 'RTH01-CARD' }),
      signal: AbortSignal.timeout(5_000),
    }).catch(() => undefined);

    const listed = await eventually(
      async () => (await stuck()).workflows.find((w) => w.workflowId === `second-opinion/${id}`),
      30_000,
      500,
    );
    expect(listed).toMatchObject({
      workflowType: 'secondOpinionWorkflow',
      local: true,
      attempt: expect.any(Number),
      lastFailureType: expect.any(String),
      links: { temporal: expect.stringContaining(encodeURIComponent(`second-opinion/${id}`)), trace: null },
    });
    expect(listed!.attempt).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(listed)).not.toContain('injected failure');

    await orm.em.fork().execute('drop trigger fail_referred on outbox');
    await decision;
    await eventually(async () => ((await state()) === 'awaiting-triage' ? true : undefined), 90_000, 500);
    await eventually(
      async () => ((await stuck()).workflows.some((w) => w.workflowId === `second-opinion/${id}`) ? undefined : true),
      30_000,
      500,
    );
  }, 180_000);

  it('forgets a failing activity whose workflow is not running (ended, or never was) rather than listing it', async () => {
    const workflowId = `second-opinion/${randomUUID()}`;
    await orm.em.fork().execute(
      `insert into failing_activity (workflow_id, activity_type, workflow_type, attempt, local, last_failure_type, last_failed_at)
         values (?, 'recordTransition', 'secondOpinionWorkflow', 7, true, 'Error', now())`,
      [workflowId],
    );
    expect((await stuck()).workflows.some((w) => w.workflowId === workflowId)).toBe(false);
    const rows = await orm.em.fork().execute<unknown[]>('select 1 from failing_activity where workflow_id = ?', [workflowId]);
    expect(rows).toHaveLength(0);
  });

  it('lists a recipient who could not be told once however often the event arrives, and takes it off once sent', async () => {
    const referralId = randomUUID();
    const notificationId = randomUUID();
    const common = {
      notificationId,
      referralId,
      causationEventId: randomUUID(),
      recipientRole: 'patient' as const,
      template: 'referral-requested',
    };
    const failed = createEnvelope({
      id: randomUUID(),
      type: NotificationFailed.type,
      source: '/sonet/notification',
      subject: referralId,
      data: {
        ...common,
        channel: 'letter',
        reason: 'letter: no postal address',
        attempts: 3,
        failedAt: new Date(Date.now() - 1_000).toISOString(),
      },
    });
    await publisher.publish([{ topic, message: toWireMessage(failed) }]);
    await publisher.publish([{ topic, message: toWireMessage(failed) }]);
    const listed = await eventually(async () => {
      const mine = (await stuck()).notifications.filter((n) => n.notificationId === notificationId);
      return mine.length > 0 ? mine : undefined;
    }, 30_000);
    expect(listed).toEqual([
      expect.objectContaining({
        referralId,
        recipientRole: 'patient',
        channel: 'letter',
        reason: 'letter: no postal address',
        attempts: 3,
        links: expect.objectContaining({ temporal: expect.stringContaining(encodeURIComponent(`second-opinion/${referralId}`)) }),
      }),
    ]);

    const sent = createEnvelope({
      id: randomUUID(),
      type: NotificationSent.type,
      source: '/sonet/notification',
      subject: referralId,
      data: { ...common, channel: 'email', sentAt: new Date().toISOString() },
    });
    await publisher.publish([{ topic, message: toWireMessage(sent) }]);
    await eventually(
      async () => ((await stuck()).notifications.some((n) => n.notificationId === notificationId) ? undefined : true),
      30_000,
    );
  });
});
