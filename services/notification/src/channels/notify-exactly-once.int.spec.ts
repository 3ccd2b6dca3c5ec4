import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { Kafka, logLevel } from 'kafkajs';
import { ReferralRequested, Topics, toWireMessage, type EventEnvelope, type ReferralRequestedData } from '@sonet/contracts';
import { buildEvent, KafkaBroker, startGroupAtEnd, type MessagePublisher } from '@sonet/messaging';
import { runMigrations } from '@sonet/service-kit';
import {
  eventually,
  freePort,
  freshDatabase,
  integrationSettings,
  LOCAL_NOTIFY,
  LocalNotifyServer,
  REPO_ROOT,
  testTokens,
  uniqueSuffix,
} from '@sonet/testing';
import { readNotificationConfig, type NotificationConfig } from '../config';
import { notificationOrmOptions } from '../orm';
import { notificationIdFor, planNotification, recordNotifications } from '../domain/planned-notification';
import { DispatchNotificationsHandler } from '../dispatch-notifications/dispatch-notifications.handler';
import type { EmailSender } from './email.sender';
import { NotifySender } from './notify.sender';
import { grantedOf, NotifyRateLimiter, sendsPerWindow } from './notify-rate-limiter';

/** A deployment's own Notify template for one message (NOTIFY_MESSAGE_TEMPLATES). */
const ACKNOWLEDGEMENT_SMS = { id: '5b0b7b8e-3f7c-4b6f-9a55-0f0c4d2b7a11', type: 'sms', body: 'Ref ((reference)). ((body))' } as const;

const noEmail: EmailSender = {
  send: () => Promise.reject(new Error('no email in this test')),
  verify: () => Promise.resolve(),
};

/** The dispatcher, GOV.UK Notify (the local server) and PostgreSQL: what survives a crash, and two replicas. */
describe('exactly once through Notify', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let config: NotificationConfig;
  let orm: MikroORM;
  let notify: LocalNotifyServer;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await freshDatabase('notification_notify');
    notify = await LocalNotifyServer.reserve();
    await notify.start({ templates: [ACKNOWLEDGEMENT_SMS] });
    config = readNotificationConfig({
      ...process.env,
      PGDATABASE: db.dbName,
      NOTIFY_API_KEY: LOCAL_NOTIFY.apiKey,
      NOTIFY_BASE_URL: notify.baseUrl,
      NOTIFY_RATE_LIMIT_PER_MINUTE: '70',
    });
    await runMigrations(notificationOrmOptions(config));
    orm = await MikroORM.init(notificationOrmOptions(config));
  });

  afterAll(async () => {
    await orm?.close(true);
    await notify?.stop();
    await db?.drop();
  });

  async function anSms(referralId = randomUUID()): Promise<string> {
    const plan = planNotification({
      event: { id: randomUUID(), type: 'referral.requested.v1' },
      referralId,
      recipientRole: 'patient',
      contact: { preferences: ['sms'], mobile: LOCAL_NOTIFY.numbers.delivered },
      template: 'patient-acknowledgement',
      rendered: { subject: 'Subject', text: 'Body' },
    });
    await orm.em.fork().transactional((em) => recordNotifications(em, [plan], new Date()));
    return plan.id;
  }

  it('does not send again after a crash between Notify accepting the message and our commit', async () => {
    const id = await anSms();
    const sender = new NotifySender(config);
    const dispatcher = new DispatchNotificationsHandler(orm, noEmail, config, sender, new NotifyRateLimiter(orm, config));
    // The first dispatcher claims the row and Notify accepts the message, then the process dies before its commit.
    const [claimed] = (await dispatcher.claim()).filter((c) => c.id === id);
    await sender.send({
      notificationId: id,
      referralId: claimed!.referralId,
      template: claimed!.template,
      channel: 'sms',
      to: claimed!.address!,
      subject: claimed!.subject,
      text: claimed!.smsText!,
    });
    // The lease runs out; the row is claimed again.
    await orm.em.fork().execute(`update notification set next_attempt_at = now() where id = ?`, [id]);
    await dispatcher.dispatchBatch();

    expect(await notify.messages(id)).toHaveLength(1);
    const [row] = await orm.em
      .fork()
      .execute<{ status: string; attempts: number }[]>('select status, attempts from notification where id = ?', [id]);
    expect(row).toEqual({ status: 'sent', attempts: 2 });
    const [attempt] = await orm.em
      .fork()
      .execute<{ provider_id: string }[]>('select provider_id from notification_attempt where notification_id = ?', [id]);
    expect(attempt!.provider_id).toBe((await notify.messages(id))[0]!.id);
  });

  it("sends a message through the deployment's own Notify template for it, with the referral's short reference", async () => {
    const referralId = randomUUID();
    const id = await anSms(referralId);
    const own = readNotificationConfig({
      ...process.env,
      PGDATABASE: db.dbName,
      NOTIFY_API_KEY: LOCAL_NOTIFY.apiKey,
      NOTIFY_BASE_URL: notify.baseUrl,
      NOTIFY_RATE_LIMIT_PER_MINUTE: '70',
      NOTIFY_MESSAGE_TEMPLATES: JSON.stringify({ 'patient-acknowledgement': { sms: ACKNOWLEDGEMENT_SMS.id } }),
    });
    const sender = new NotifySender(own);
    const dispatcher = new DispatchNotificationsHandler(orm, noEmail, own, sender, new NotifyRateLimiter(orm, own));
    await eventually(async () => {
      await dispatcher.dispatchBatch();
      return (await notify.messages(id)).length > 0 || undefined;
    });
    const [message] = await notify.messages(id);
    expect(message!.template?.id).toBe(ACKNOWLEDGEMENT_SMS.id);
    // The template's own words around ours: the SMS text as rendered (no clinical detail), after the reference.
    const ref = referralId.slice(0, 8).toUpperCase();
    expect(message!.body).toMatch(new RegExp(`^Ref ${ref}\\. NHS second opinion \\(ref ${ref}\\): We have received your request`));
    // Another channel of the same message, or another message, keeps the generic template.
    expect(sender.templateFor({ template: 'patient-acknowledgement', channel: 'letter', referralId }).templateId).toBe(
      LOCAL_NOTIFY.templates.letter,
    );
    expect(sender.templateFor({ template: 'patient-referred', channel: 'sms', referralId }).templateId).toBe(LOCAL_NOTIFY.templates.sms);
    sender.onApplicationShutdown();
  });

  it('shares the rate limit between two replicas: together they never take more than the windows allow', async () => {
    const ormA = await MikroORM.init(notificationOrmOptions(config));
    const replicaA = new NotifyRateLimiter(ormA, config);
    const replicaB = new NotifyRateLimiter(orm, config);
    const bucket = `test-${randomUUID()}`;
    const takes = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? replicaA : replicaB).take(bucket))).finally(() =>
      ormA.close(true),
    );
    const granted = takes.filter((t) => t === undefined).length;
    // A window boundary may fall inside the burst: then the next window grants more, never more than two windows.
    expect(granted).toBeGreaterThanOrEqual(sendsPerWindow(70));
    expect(granted).toBeLessThanOrEqual(2 * sendsPerWindow(70));
    const refused = takes.filter((t): t is Date => t !== undefined);
    expect(refused.every((until) => until.getTime() > Date.now() - 10_000)).toBe(true);
  });

  it('shares the rate limit when two replicas take whole batches: the grants never exceed the windows', async () => {
    const ormA = await MikroORM.init(notificationOrmOptions(config));
    const replicaA = new NotifyRateLimiter(ormA, config);
    const replicaB = new NotifyRateLimiter(orm, config);
    const bucket = `test-${randomUUID()}`;
    // 10 per window (70 a minute): batches of 4 from both replicas at once, 40 sends asked for.
    const grants = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? replicaA : replicaB).takeMany(bucket, 4))).finally(() =>
      ormA.close(true),
    );
    const granted = grants.reduce((n, g) => n + g.granted, 0);
    expect(granted).toBeGreaterThanOrEqual(sendsPerWindow(70));
    expect(granted).toBeLessThanOrEqual(2 * sendsPerWindow(70));
    // A batch that straddles the budget is granted part of it.
    expect(grantedOf(4, 12, 10)).toBe(2);
    expect(grantedOf(4, 16, 10)).toBe(0);
  });
});

const SERVICE = join(REPO_ROOT, 'dist/services/notification/src/main.js');
const KILL_EVENTS = 200;

/**
 * The notification service as its own process (the built dist/, as in production) fed 200 referral requests of
 * SMS patients, killed with SIGKILL while a batch of texts is accepted by Notify but not yet answered (the local
 * server answers each send a second late), then started again. Counted on the Notify server, by reference.
 */
describe('a notification service killed (SIGKILL) in the middle of a batch', () => {
  const settings = integrationSettings();
  const topic = `test.referral-events.${uniqueSuffix()}`;
  const admin = () =>
    new Kafka({ clientId: `test-admin-${uniqueSuffix()}`, brokers: settings.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let orm: MikroORM;
  let notify: LocalNotifyServer;
  let broker: KafkaBroker;
  let publisher: MessagePublisher;
  let env: Record<string, string | undefined>;
  let service: ChildProcess | undefined;
  let servicePort: number;

  // No wait for readiness: the group's offsets are set before anything is published, so what is published while the
  // service boots waits for it. Booting is most of this test's time on a busy machine.
  const start = () => spawn(process.execPath, [SERVICE], { cwd: REPO_ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  const kill = async (child: ChildProcess) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };
  const count = async (sql: string) => Number((await orm.em.fork().execute<{ n: string }[]>(sql))[0]!.n);

  beforeAll(async () => {
    if (!existsSync(SERVICE)) throw new Error(`${SERVICE} is missing: build first (node tools/build.mjs; npm test does it)`);
    Logger.overrideLogger(false);
    const tokens = await testTokens();
    db = await freshDatabase('notification_kill');
    servicePort = await freePort();
    notify = await LocalNotifyServer.reserve();
    await notify.start({
      callbackUrl: `http://127.0.0.1:${servicePort}/v1/notify/receipts`,
      ratePerWindow: 1_000_000,
      responseDelayMs: 1_000,
    });
    env = {
      ...process.env,
      ...tokens.env,
      NODE_OPTIONS: '',
      PGDATABASE: db.dbName,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(servicePort),
      LOG_LEVEL: 'warn',
      KAFKA_CONSUMER_GROUP: `notification.test-kill-${uniqueSuffix()}`,
      REFERRAL_EVENTS_TOPIC: topic,
      NOTIFY_API_KEY: LOCAL_NOTIFY.apiKey,
      NOTIFY_BASE_URL: notify.baseUrl,
      NOTIFY_CALLBACK_TOKEN: LOCAL_NOTIFY.callbackToken,
      NOTIFY_RATE_LIMIT_PER_MINUTE: '1000000',
      DISPATCH_INTERVAL_MS: '50',
      DISPATCH_BATCH_SIZE: '25',
      // A send cut off by the kill is claimed again once its lease ends: seconds here, not the default 2 minutes.
      NOTIFY_TIMEOUT_MS: '3000',
      SMTP_TIMEOUT_MS: '2000',
      SEND_LEASE_MS: '7000',
      SEND_BACKOFF_BASE_MS: '200',
    };
    const config = readNotificationConfig(env);
    await runMigrations(notificationOrmOptions(config));
    orm = await MikroORM.init(notificationOrmOptions(config));
    const a = admin();
    await a.connect();
    await a.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
    await a.disconnect();
    // The service also reads the shared records topic: from its end, so other suites' events are not its business.
    await startGroupAtEnd(settings.kafkaBrokers, config.KAFKA_CONSUMER_GROUP, [topic, Topics.recordsEvents]);
    broker = new KafkaBroker({ brokers: settings.kafkaBrokers, clientId: `test-publisher-${uniqueSuffix()}` });
    publisher = await broker.publisher();
  }, 60_000);

  afterAll(async () => {
    if (service) await kill(service);
    await broker?.close();
    await notify?.stop();
    await orm?.close(true);
    const a = admin();
    await a.connect();
    await a.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await a.disconnect();
    await db?.drop();
  }, 30_000);

  function referralRequested(): EventEnvelope<ReferralRequestedData> {
    const referralId = randomUUID();
    return buildEvent(ReferralRequested, {
      id: randomUUID(),
      source: '/sonet/referral',
      subject: referralId,
      data: {
        referralId,
        referringPractice: 'A81001',
        originalTeam: { ods: 'RX1', name: 'Cardiology, General Hospital' },
        specialty: 'cardiology',
        urgency: 'routine',
        reason: 'Crash test',
        explainedByOriginalTeam: false,
        patient: {
          nhsNumber: '9434765919',
          name: 'Sam Tester',
          preferredChannel: 'sms',
          mobile: LOCAL_NOTIFY.numbers.delivered,
          contactPreferences: ['sms'],
        },
        requestedAt: new Date().toISOString(),
      },
    }) as EventEnvelope<ReferralRequestedData>;
  }

  it('loses and duplicates nothing: every (event, recipient, template) reaches Notify exactly once', async () => {
    // One budget for the whole test (two boots, a Kafka session timeout and a lease), below Jest's timeout.
    const deadline = Date.now() + 100_000;
    service = start();
    const events = Array.from({ length: KILL_EVENTS }, referralRequested);
    const ids = new Set(events.map((e) => notificationIdFor(e.id, 'patient', 'patient-acknowledgement')));
    const ours = async () => (await notify.messages()).filter((m) => m.reference !== null && ids.has(m.reference));
    await publisher.publish(events.map((event) => ({ topic, message: toWireMessage(event) })));

    // Killed as soon as a batch is being accepted: Notify holds each answer for a second, so the sends are in flight.
    await eventually(async () => ((await notify.stats()).accepted >= 50 ? true : undefined), 70_000, 20);
    await kill(service);
    const acceptedAtKill = new Set((await ours()).map((m) => m.reference)).size;
    const recordedAtKill = await count(`select count(*) as n from notification where status in ('sent', 'delivered')`);
    expect(acceptedAtKill).toBeLessThan(KILL_EVENTS);
    // The crash this test is about happened: Notify took messages whose sends the service never recorded.
    expect(recordedAtKill).toBeLessThan(acceptedAtKill);

    service = start();
    // Done when no notification is left to send (nothing pending, every event recorded): no send can follow.
    await eventually(
      async () => {
        const [all, pending] = await Promise.all([
          count('select count(*) as n from notification'),
          count(`select count(*) as n from notification where status = 'pending'`),
        ]);
        return all === KILL_EVENTS && pending === 0 ? true : undefined;
      },
      Math.max(10_000, deadline - Date.now()),
      250,
    );

    const received = await ours();
    const perReference = new Map<string, number>();
    for (const m of received) perReference.set(m.reference!, (perReference.get(m.reference!) ?? 0) + 1);
    expect([...perReference.values()].filter((n) => n > 1)).toEqual([]);
    expect(new Set(perReference.keys())).toEqual(ids);
    // Each notification is sent once and records the message Notify holds for it (adopted after the crash).
    const rows = await orm.em.fork().execute<{ id: string; status: string; provider_id: string | null }[]>(
      `select n.id, n.status, a.provider_id from notification n
           left join notification_attempt a on a.notification_id = n.id and a.route_step = n.route_step`,
    );
    expect(rows.filter((r) => r.status !== 'sent' && r.status !== 'delivered')).toEqual([]);
    const notifyIdOf = new Map(received.map((m) => [m.reference!, m.id]));
    expect(rows.filter((r) => r.provider_id !== notifyIdOf.get(r.id))).toEqual([]);
  }, 115_000);
});
