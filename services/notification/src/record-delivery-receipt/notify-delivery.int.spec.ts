import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MikroORM } from '@mikro-orm/postgresql';
import {
  ReferralRequested,
  Topics,
  toWireMessage,
  type EventEnvelope,
  type PatientDetails,
  type ReferralRequestedData,
} from '@sonet/contracts';
import { buildEvent, KafkaBroker, type MessagePublisher, startGroupAtEnd } from '@sonet/messaging';
import { runMigrations } from '@sonet/service-kit';
import { eventually, freshDatabase, integrationSettings, LOCAL_NOTIFY, LocalNotifyServer, testTokens, uniqueSuffix } from '@sonet/testing';
import { readNotificationConfig, type NotificationConfig } from '../config';
import { notificationOrmOptions } from '../orm';
import { startNotificationService } from '../service';
import { notificationIdFor } from '../domain/planned-notification';
import type { NotificationView } from '../list-notifications/list-notifications.handler';

jest.setTimeout(120_000);

const settings = integrationSettings();
/**
 * Its own referral topic: other suites publish events for referrals this instance never saw on referral.events.v1,
 * and their retries would hold up its partitions (and these 100 copies would reach the running network).
 */
const TOPIC = `test.referral-events.${uniqueSuffix()}`;
const admin = () =>
  new Kafka({ clientId: `test-admin-${uniqueSuffix()}`, brokers: settings.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
const LETTER_ADDRESS = { lines: ['1 Test Street', 'Leeds'], postcode: 'LS1 4AP' };

function referralRequested(patient: Partial<PatientDetails>): EventEnvelope<ReferralRequestedData> {
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
      reason: 'Would like a second view on the proposed treatment',
      explainedByOriginalTeam: false,
      patient: { nhsNumber: '9434765919', name: 'Sam Tester', preferredChannel: 'sms', ...patient },
      requestedAt: new Date().toISOString(),
    },
  }) as EventEnvelope<ReferralRequestedData>;
}

/**
 * The notification service (in-process, from source) against the real PostgreSQL and Kafka and the local
 * GOV.UK Notify-compatible server as a child process: what Notify accepted is counted on Notify's side.
 * Its rate limit is 10 per 3 s here, so a burst meets real 429 answers.
 */
describe('text messages and letters through the local Notify server', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let config: NotificationConfig;
  let app: NestFastifyApplication;
  let baseUrl: string;
  let broker: KafkaBroker;
  let publisher: MessagePublisher;
  let notify: LocalNotifyServer;
  let tokens: Awaited<ReturnType<typeof testTokens>>;

  const publish = (...events: EventEnvelope[]) =>
    publisher.publish(events.map((event) => ({ topic: TOPIC, message: toWireMessage(event) })));
  const idOf = (event: EventEnvelope) => notificationIdFor(event.id, 'patient', 'patient-acknowledgement');
  const viewOf = async (event: EventEnvelope<ReferralRequestedData>): Promise<NotificationView | undefined> => {
    const res = await fetch(`${baseUrl}/v1/notifications?referralId=${event.data.referralId}`, {
      headers: await tokens.bearer('ops', 'X26'),
    });
    return ((await res.json()) as { items: NotificationView[] }).items[0];
  };
  const settledView = (event: EventEnvelope<ReferralRequestedData>, status: string) =>
    eventually(async () => {
      const v = await viewOf(event);
      return v?.status === status ? v : undefined;
    }, 60_000);
  const postReceipt = (body: unknown, token: string = LOCAL_NOTIFY.callbackToken) =>
    fetch(`${baseUrl}/v1/notify/receipts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    tokens = await testTokens();
    db = await freshDatabase('notification');
    notify = await LocalNotifyServer.reserve();
    config = readNotificationConfig({
      ...process.env,
      ...tokens.env,
      PGDATABASE: db.dbName,
      HTTP_PORT: '0',
      KAFKA_CONSUMER_GROUP: `notification.test-${uniqueSuffix()}`,
      REFERRAL_EVENTS_TOPIC: TOPIC,
      LOG_LEVEL: 'warn',
      DISPATCH_INTERVAL_MS: '100',
      DISPATCH_BATCH_SIZE: '20',
      NOTIFY_API_KEY: LOCAL_NOTIFY.apiKey,
      NOTIFY_BASE_URL: notify.baseUrl,
      NOTIFY_CALLBACK_TOKEN: LOCAL_NOTIFY.callbackToken,
      EMAIL_PROVIDER: 'notify',
      NOTIFY_RATE_LIMIT_BACKOFF_MS: '300',
      SEND_BACKOFF_BASE_MS: '200',
    });
    await runMigrations(notificationOrmOptions(config));
    const a = admin();
    await a.connect();
    await a.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
    await a.disconnect();
    await startGroupAtEnd(settings.kafkaBrokers, config.KAFKA_CONSUMER_GROUP, [TOPIC, Topics.recordsEvents]);
    app = await startNotificationService(config);
    baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    await notify.start({ callbackUrl: `${baseUrl}/v1/notify/receipts`, ratePerWindow: 10, rateWindowSeconds: 3 });
    broker = new KafkaBroker({ brokers: settings.kafkaBrokers, clientId: `test-publisher-${uniqueSuffix()}` });
    publisher = await broker.publisher();
  });

  afterAll(async () => {
    await app?.close();
    await broker?.close();
    await notify?.stop();
    await db?.drop();
    const a = admin();
    await a.connect();
    await a.deleteTopics({ topics: [TOPIC] }).catch(() => undefined);
    await a.disconnect();
  });

  it('sends a patient who prefers SMS exactly one text message, without clinical detail, and records its delivery', async () => {
    const event = referralRequested({
      mobile: LOCAL_NOTIFY.numbers.delivered,
      contactPreferences: ['sms', 'email'],
      email: 'sam@example.test',
    });
    await publish(event);
    const view = await settledView(event, 'delivered');
    const [sms, ...more] = await notify.messages(idOf(event));
    expect(more).toHaveLength(0);
    expect(sms).toMatchObject({ type: 'sms', phone_number: LOCAL_NOTIFY.numbers.delivered, status: 'delivered' });
    expect(sms!.body).toMatch(/^NHS second opinion \(ref [0-9A-F]{8}\): We have received your request/);
    expect(sms!.body).not.toMatch(/cardio|treatment|Sam Tester/i);
    expect(view).toMatchObject({
      channel: 'sms',
      fallbacks: 0,
      channelAttempts: [{ channel: 'sms', provider: 'notify', status: 'delivered' }],
    });
    // The same receipt again, and a contradicting one: the attempt has its outcome, so neither changes anything.
    for (const status of ['delivered', 'permanent-failure']) {
      const again = await postReceipt({ id: sms!.id, reference: idOf(event), status, notification_type: 'sms', to: sms!.phone_number });
      expect(await again.json()).toEqual({ outcome: 'unchanged' });
    }
    expect(await viewOf(event)).toEqual(view);
  });

  it('falls back from a number Notify refuses to email, and to a letter when there is no email', async () => {
    // An event from before issue 11: the free-form phone, which is a landline Notify will not text.
    const toEmail = referralRequested({ phone: '020 7946 0000', contactPreferences: ['sms', 'email'], email: 'sam@example.test' });
    const toLetter = referralRequested({ phone: '020 7946 0000', contactPreferences: ['sms', 'email', 'letter'], address: LETTER_ADDRESS });
    await publish(toEmail, toLetter);
    const emailView = await settledView(toEmail, 'delivered');
    const letterView = await settledView(toLetter, 'delivered');
    expect(emailView?.channelAttempts.map((a) => [a.channel, a.status])).toEqual([
      ['sms', 'failed'],
      ['email', 'delivered'],
    ]);
    expect(letterView?.channelAttempts.map((a) => [a.channel, a.status])).toEqual([
      ['sms', 'failed'],
      ['email', 'no-address'],
      ['letter', 'delivered'],
    ]);
    expect((await notify.messages(idOf(toEmail))).map((m) => m.type)).toEqual(['email']);
    const [letter] = await notify.messages(idOf(toLetter));
    expect(letter).toMatchObject({ type: 'letter', line_1: 'Sam Tester', postcode: 'LS1 4AP' });
    expect(letter!.body).toContain('Patient Advice and Liaison Service (PALS)');
  });

  it('falls back when Notify reports a permanent failure, and a repeated receipt changes nothing', async () => {
    const event = referralRequested({
      mobile: LOCAL_NOTIFY.numbers.permanentFailure,
      contactPreferences: ['sms', 'email'],
      email: 'sam@example.test',
    });
    await publish(event);
    const view = await settledView(event, 'delivered');
    expect(view?.channelAttempts.map((a) => [a.channel, a.status])).toEqual([
      ['sms', 'permanent-failure'],
      ['email', 'delivered'],
    ]);
    const [sms] = (await notify.messages(idOf(event))).filter((m) => m.type === 'sms');
    // Repeated, or contradicted by a late `delivered` for the channel it already left: nothing changes.
    for (const status of ['permanent-failure', 'delivered']) {
      const receipt = { id: sms!.id, reference: idOf(event), status, notification_type: 'sms', to: sms!.phone_number };
      const again = await postReceipt(receipt);
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual({ outcome: 'unchanged' });
    }
    expect(await viewOf(event)).toEqual(view);
    expect(await notify.messages(idOf(event))).toHaveLength(2);
  });

  it('applies receipts arriving together in groups: each applied once, its repeat unchanged, a failure among them falling back', async () => {
    const events = Array.from({ length: 12 }, () =>
      referralRequested({ mobile: LOCAL_NOTIFY.numbers.delivered, contactPreferences: ['sms', 'email'], email: 'sam@example.test' }),
    );
    await publish(...events);
    const em = app.get(MikroORM).em.fork();
    const ids = events.map(idOf);
    // One query for all twelve (twelve API pollers at once would compete with the receipts they wait for).
    const delivered = async () =>
      Number(
        (
          await em.execute<{ n: string }[]>(
            `select count(*) as n from notification where status = 'delivered' and id in (${ids.map(() => '?').join(', ')})`,
            ids,
          )
        )[0]!.n,
      );
    await eventually(async () => ((await delivered()) === ids.length ? true : undefined), 60_000, 250);
    const texts = await Promise.all(events.map(async (e) => (await notify.messages(idOf(e)))[0]!));
    // Back to "sent, waiting for its receipt", as if Notify's receipts had not come yet.
    await em.execute(`update notification set status = 'sent', delivered_at = null where id in (${ids.map(() => '?').join(', ')})`, ids);
    await em.execute(
      `update notification_attempt set status = 'sent', completed_at = null where notification_id in (${ids.map(() => '?').join(', ')})`,
      ids,
    );
    // Every text's receipt twice, all at once; the last one's first receipt says it failed for good.
    const receipts = texts.flatMap((sms, i) => {
      const status = i === texts.length - 1 ? 'permanent-failure' : 'delivered';
      const r = { id: sms.id, reference: ids[i], status, notification_type: 'sms', to: sms.phone_number };
      return [r, { ...r, status: 'delivered' }];
    });
    const answers = await Promise.all(
      receipts.map(async (r) => {
        const res = await postReceipt(r);
        expect(res.status).toBe(200);
        return { reference: r.reference, outcome: ((await res.json()) as { outcome: string }).outcome };
      }),
    );
    for (const id of ids.slice(0, -1)) {
      expect(
        answers
          .filter((a) => a.reference === id)
          .map((a) => a.outcome)
          .sort(),
      ).toEqual(['delivered', 'unchanged']);
    }
    const failedOne = events[events.length - 1]!;
    const outcomesOfFailed = answers.filter((a) => a.reference === idOf(failedOne)).map((a) => a.outcome);
    // Whichever of its two receipts came first decided: delivered (the failure then unchanged), or a fallback to email.
    expect(outcomesOfFailed.sort()).toEqual(
      outcomesOfFailed.includes('fell-back') ? ['fell-back', 'unchanged'] : ['delivered', 'unchanged'],
    );
    expect(await delivered()).toBeGreaterThanOrEqual(ids.length - 1);
    for (const e of events.slice(0, -1)) expect((await viewOf(e))?.status).toBe('delivered');
    const failedView = await settledView(failedOne, 'delivered');
    expect(failedView?.channelAttempts.map((a) => a.channel)).toEqual(outcomesOfFailed.includes('fell-back') ? ['sms', 'email'] : ['sms']);
  });

  it('lists a patient nobody could reach for operations, with why', async () => {
    const event = referralRequested({ mobile: LOCAL_NOTIFY.numbers.temporaryFailure, contactPreferences: ['sms'] });
    await publish(event);
    await settledView(event, 'temporary-failure');
    const res = await fetch(`${baseUrl}/v1/notifications/unreachable`, { headers: await tokens.bearer('ops', 'X26') });
    const { items } = (await res.json()) as { items: NotificationView[] };
    const mine = items.find((i) => i.notificationId === idOf(event));
    expect(mine).toMatchObject({ status: 'temporary-failure', channel: 'sms', lastError: 'sms: notify receipt: temporary-failure' });
    expect(JSON.stringify(items)).not.toContain(LOCAL_NOTIFY.numbers.temporaryFailure);
  });

  it('answers receipts: 401 for a wrong token, 400 for a malformed body, 200 for a message it does not know', async () => {
    const unknown = { id: randomUUID(), reference: randomUUID(), status: 'delivered', notification_type: 'sms' };
    expect((await postReceipt(unknown, 'not-the-token-at-all')).status).toBe(401);
    const bad = await postReceipt({ id: 'nope', status: 'lost' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    const ok = await postReceipt(unknown);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ outcome: 'unknown' });
  });

  it('sends one message for the same event delivered 100 times', async () => {
    const event = referralRequested({ mobile: LOCAL_NOTIFY.numbers.delivered, contactPreferences: ['sms'] });
    await publish(...Array.from({ length: 100 }, () => event));
    await settledView(event, 'delivered');
    // A later event on the same key (same partition) is handled after every copy.
    const marker = referralRequested({ mobile: LOCAL_NOTIFY.numbers.delivered, contactPreferences: ['sms'] });
    await publish({ ...marker, subject: event.subject, data: { ...marker.data, referralId: event.data.referralId } });
    await eventually(async () => ((await notify.messages(idOf(marker))).length === 1 ? true : undefined), 60_000);
    expect(await notify.messages(idOf(event))).toHaveLength(1);
  });

  it('meets a 429 storm with delay, not loss: 80 patients, each texted exactly once', async () => {
    const events = Array.from({ length: 80 }, () =>
      referralRequested({ mobile: LOCAL_NOTIFY.numbers.delivered, contactPreferences: ['sms'] }),
    );
    const before = (await notify.stats()).rateLimited;
    await publish(...events);
    await eventually(
      async () => {
        const counts = await Promise.all(events.map(async (e) => (await notify.messages(idOf(e))).length));
        return counts.every((c) => c >= 1) ? counts : undefined;
      },
      90_000,
      500,
    );
    const counts = await Promise.all(events.map(async (e) => (await notify.messages(idOf(e))).length));
    expect(counts.every((c) => c === 1)).toBe(true);
    expect((await notify.stats()).rateLimited).toBeGreaterThan(before);
  });
});
