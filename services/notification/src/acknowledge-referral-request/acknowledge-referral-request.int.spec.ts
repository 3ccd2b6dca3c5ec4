import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MikroORM } from '@mikro-orm/postgresql';
import {
  dlqTopicOf,
  headerText,
  ReferralRequested,
  ReferralRequestedV2,
  Topics,
  toWireMessage,
  type EventEnvelope,
  type ReferralRequestedData,
} from '@sonet/contracts';
import {
  buildEvent,
  KafkaBroker,
  sealField,
  type DataKey,
  type KeyLookup,
  type MessagePublisher,
  type ReceivedRecord,
  readTopicsIntoMemory,
  startGroupAtEnd,
} from '@sonet/messaging';
import { runMigrations } from '@sonet/service-kit';
import { eventually, freshDatabase, integrationSettings, uniqueSuffix, testTokens } from '@sonet/testing';
import { readNotificationConfig, type NotificationConfig } from '../config';
import { notificationOrmOptions } from '../orm';
import { startNotificationService } from '../service';
import { notificationIdFor } from '../domain/planned-notification';
import { AcknowledgeReferralRequestHandler } from './acknowledge-referral-request.handler';

jest.setTimeout(90_000);

const settings = integrationSettings();
const PALS_PHONE = '01632 960 777';

interface MailDevMessage {
  id: string;
  subject: string;
  text: string;
  to: { address: string; name: string }[];
  headers: Record<string, string>;
}

/**
 * This instance's Message-ID domain. When the whole network runs, the real notification service consumes the
 * same topic and also mails the test's address; its messages carry the default domain, so only ours count here.
 */
const MESSAGE_ID_DOMAIN = `notification-test-${uniqueSuffix()}.invalid`;

/** Mail this instance sent to an address. */
async function mailTo(address: string): Promise<MailDevMessage[]> {
  const res = await fetch(`${settings.mailHttp}/api/email?to.address=${encodeURIComponent(address)}`);
  if (!res.ok) throw new Error(`MailDev answered ${res.status}`);
  const all = (await res.json()) as MailDevMessage[];
  return all.filter((m) => m.to.some((t) => t.address === address) && (m.headers['message-id'] ?? '').endsWith(`@${MESSAGE_ID_DOMAIN}>`));
}

function referralRequested(referralId: string, email: string): EventEnvelope<ReferralRequestedData> {
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
      patient: { nhsNumber: '9434765919', name: 'Sam Tester', email, preferredChannel: 'email' },
      requestedAt: new Date().toISOString(),
    },
  }) as EventEnvelope<ReferralRequestedData>;
}

/**
 * The referral service's key endpoint as notification sees it (ADR 14): keys by referral, 410 once destroyed, 503 for
 * a referral it cannot serve now. Notes the token each request came with.
 */
const keyServer = {
  keys: new Map<string, KeyLookup>(),
  tokens: [] as string[],
  server: undefined as Server | undefined,
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.tokens.push(String(req.headers.authorization ?? ''));
      const id = (req.url ?? '').split('/').pop() ?? '';
      const k = this.keys.get(id);
      if (k === undefined) return void res.writeHead(503).end();
      if (k === 'destroyed') return void res.writeHead(410).end();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ referralId: id, kid: k.kid, alg: 'A256GCM', key: k.key.toString('base64url') }));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  },
};

function referralRequestedV2(referralId: string, email: string, key: DataKey): EventEnvelope {
  const v1 = referralRequested(referralId, email);
  const patient = sealField(key, { referralId, eventType: ReferralRequestedV2.type, field: 'patient' }, v1.data.patient);
  return buildEvent(ReferralRequestedV2, {
    id: randomUUID(),
    source: '/sonet/referral',
    subject: referralId,
    data: { ...v1.data, patient },
  });
}

describe('notification service against PostgreSQL, Kafka and MailDev', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let config: NotificationConfig;
  let app: NestFastifyApplication;
  let baseUrl: string;
  let broker: KafkaBroker;
  let publisher: MessagePublisher;
  let notificationEvents: { records: ReceivedRecord[]; stop: () => Promise<void> };
  // A referral topic of this suite's own: on the shared one, other suites' events (keys this suite's key server does
  // not hold) kept a partition retrying while this suite's events waited behind them.
  const TOPIC = `test.referral-events.${uniqueSuffix()}`;
  // Its outcomes on a topic of its own too (NOTIFICATION_EVENTS_TOPIC): read here, never by a running network.
  const OUTCOMES_TOPIC = `test.notification-events.${uniqueSuffix()}`;

  const publish = (event: EventEnvelope) => publisher.publish([{ topic: TOPIC, message: toWireMessage(event) }]);
  /** Dead letters of this test's consumer group. */
  const ourDeadLetters = (eventId: string) =>
    deadLetters.records.filter(
      (r) => headerText(r.headers.ce_id) === eventId && headerText(r.headers['dlq-consumer-group']) === config.KAFKA_CONSUMER_GROUP,
    );
  const rowsFor = (causationEventId: string) =>
    app
      .get(MikroORM)
      .em.fork()
      .execute<{ id: string; status: string; attempts: number }[]>(
        'select id, status, attempts from notification where causation_event_id = ?',
        [causationEventId],
      );
  const outboxSentFor = (notificationId: string) =>
    app
      .get(MikroORM)
      .em.fork()
      .execute<{ id: string }[]>(
        `select id from outbox where event_type = 'notification.sent.v1' and value::jsonb ->> 'notificationId' = ?`,
        [notificationId],
      );
  const sentEventsFor = (notificationId: string) =>
    notificationEvents.records.filter(
      (r) => headerText(r.headers.ce_type) === 'notification.sent.v1' && JSON.parse(String(r.value)).notificationId === notificationId,
    );

  let tokens: Awaited<ReturnType<typeof testTokens>>;
  let deadLetters: { records: ReceivedRecord[]; stop: () => Promise<void> };
  beforeAll(async () => {
    tokens = await testTokens();
    const keysUrl = await keyServer.start();
    db = await freshDatabase('notification');
    config = readNotificationConfig({
      ...process.env,
      ...tokens.env,
      PGDATABASE: db.dbName,
      HTTP_PORT: '0',
      KAFKA_CONSUMER_GROUP: `notification.test-${uniqueSuffix()}`,
      LOG_LEVEL: 'warn',
      DISPATCH_INTERVAL_MS: '100',
      PALS_PHONE,
      MESSAGE_ID_DOMAIN,
      REFERRAL_SERVICE_URL: keysUrl,
      REFERRAL_EVENTS_TOPIC: TOPIC,
      NOTIFICATION_EVENTS_TOPIC: OUTCOMES_TOPIC,
    });
    await runMigrations(notificationOrmOptions(config));
    broker = new KafkaBroker({ brokers: settings.kafkaBrokers, clientId: `test-publisher-${uniqueSuffix()}` });
    await broker.ensureTopics([TOPIC, dlqTopicOf(TOPIC), OUTCOMES_TOPIC].map((name) => ({ name, partitions: 3, retentionMs: 3_600_000 })));
    await startGroupAtEnd(settings.kafkaBrokers, config.KAFKA_CONSUMER_GROUP, [TOPIC, Topics.recordsEvents]);
    notificationEvents = await readTopicsIntoMemory(settings.kafkaBrokers, [OUTCOMES_TOPIC]);
    deadLetters = await readTopicsIntoMemory(settings.kafkaBrokers, [dlqTopicOf(TOPIC)]);
    app = await startNotificationService(config);
    baseUrl = await app.getUrl();
    publisher = await broker.publisher();
  });

  afterAll(async () => {
    await deadLetters?.stop();
    keyServer.server?.close();
    await app?.close();
    await broker?.close();
    await notificationEvents?.stop();
    await db?.drop();
  });

  it('is ready when the database, Kafka and the mail server answer', async () => {
    const res = await fetch(`${baseUrl}/health/ready`);
    const body = (await res.json()) as { details: Record<string, { status: string }> };
    expect(res.status).toBe(200);
    expect(Object.keys(body.details).sort()).toEqual(['database', 'kafka', 'smtp']);
  });

  describe('when a GP records a request for a second opinion', () => {
    const referralId = randomUUID();
    const email = `patient-${uniqueSuffix()}@example.test`;
    let event: EventEnvelope<ReferralRequestedData>;
    let notificationId: string;

    beforeAll(async () => {
      event = referralRequested(referralId, email);
      notificationId = notificationIdFor(event.id, 'patient', 'patient-acknowledgement');
      await publish(event);
    });

    it('emails the patient one acknowledgement that tells them how to reach PALS', async () => {
      const [mail] = await eventually(async () => {
        const m = await mailTo(email);
        return m.length > 0 ? m : undefined;
      }, 30_000);
      expect(mail!.subject).toBe('We have received your request for a second opinion');
      expect(mail!.text).toContain('Patient Advice and Liaison Service (PALS)');
      expect(mail!.text).toContain(PALS_PHONE);
      expect(mail!.text.replace(/\s/g, '')).not.toContain('9434765919');
      expect(mail!.headers['message-id']).toBe(`<${notificationId}@${MESSAGE_ID_DOMAIN}>`);
      await eventually(async () => ((await rowsFor(event.id))[0]?.status === 'sent' ? true : undefined));
      expect(await mailTo(email)).toHaveLength(1);
    });

    it('publishes notification.sent.v1 for it on its notification events topic', async () => {
      const [sent] = await eventually(async () => {
        const s = sentEventsFor(notificationId);
        return s.length > 0 ? s : undefined;
      }, 30_000);
      expect(sent!.key?.toString()).toBe(referralId);
      expect(JSON.parse(String(sent!.value))).toMatchObject({
        notificationId,
        referralId,
        causationEventId: event.id,
        recipientRole: 'patient',
        channel: 'email',
        template: 'patient-acknowledgement',
      });
    });

    it('sends nothing more when the same event is delivered again', async () => {
      await eventually(async () => ((await rowsFor(event.id))[0]?.status === 'sent' ? true : undefined), 30_000);
      await publish(event);
      // A later event with the same key lands on the same partition after the duplicate: once it has been
      // handled, so has the duplicate. It goes to another address so it cannot be mistaken for a re-send.
      const marker = referralRequested(referralId, `marker-${uniqueSuffix()}@example.test`);
      await publish(marker);
      await eventually(async () => ((await rowsFor(marker.id)).length === 1 ? true : undefined), 30_000);

      expect(await rowsFor(event.id)).toEqual([{ id: notificationId, status: 'sent', attempts: 1 }]);
      expect(await mailTo(email)).toHaveLength(1);
      // Kafka may also carry the same event id from a running notification service; count our own outbox.
      expect(await outboxSentFor(notificationId)).toHaveLength(1);
    });

    it('records the same event only once even outside the inbox (e.g. replayed under another consumer group)', async () => {
      const handler = app.get(AcknowledgeReferralRequestHandler);
      const orm = app.get(MikroORM);
      await orm.em.fork().transactional((em) => handler.execute(em, event));
      await orm.em.fork().transactional((em) => handler.execute(em, event));
      expect(await rowsFor(event.id)).toHaveLength(1);
    });

    it('shows operations its delivery status without the address or the message', async () => {
      const res = await fetch(`${baseUrl}/v1/notifications?referralId=${referralId}`, { headers: await tokens.bearer('ops', 'X26') });
      expect(res.status).toBe(200);
      const raw = await res.text();
      expect(raw).not.toContain(email);
      expect(raw).not.toContain('Sam Tester');
      const body = JSON.parse(raw) as { items: Record<string, unknown>[] };
      const item = body.items.find((i) => i.notificationId === notificationId);
      expect(item).toMatchObject({
        referralId,
        recipientRole: 'patient',
        channel: 'email',
        template: 'patient-acknowledgement',
        status: 'sent',
        attempts: 1,
        causationEventType: 'referral.requested.v1',
      });
      expect(typeof item!.sentAt).toBe('string');
      expect(Object.keys(item!)).not.toEqual(expect.arrayContaining(['recipientAddress', 'subject', 'bodyText']));
    });

    it('records who read the notifications as an access event, through the outbox', async () => {
      await fetch(`${baseUrl}/v1/notifications?referralId=${referralId}`, { headers: await tokens.bearer('ops', 'X26') });
      const rows = await app
        .get(MikroORM)
        .em.fork()
        .execute<{ value: string }[]>(`select value from outbox where event_type = 'access.recorded.v1' and key = ?`, [referralId]);
      expect(rows.length).toBeGreaterThanOrEqual(1);
      expect(JSON.parse(rows[0]!.value)).toMatchObject({
        referralId,
        actor: { role: 'ops', organisation: 'X26' },
        purpose: 'operations',
        resource: { service: 'notification', kind: 'notification-list', action: 'read' },
      });
    });
  });

  it('answers 400 problem+json when the referral id is not a UUID', async () => {
    const res = await fetch(`${baseUrl}/v1/notifications?referralId=not-a-uuid`, { headers: await tokens.bearer('ops', 'X26') });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({ status: 400, 'invalid-params': [{ name: 'referralId' }] });
  });

  it('answers 400 problem+json when the query has unknown parameters', async () => {
    const res = await fetch(`${baseUrl}/v1/notifications?referralId=${randomUUID()}&email=x`, {
      headers: await tokens.bearer('ops', 'X26'),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  it('shows the operations view to operations staff only', async () => {
    expect((await fetch(`${baseUrl}/v1/notifications?referralId=${randomUUID()}`)).status).toBe(401);
    const asGp = await fetch(`${baseUrl}/v1/notifications?referralId=${randomUUID()}`, { headers: await tokens.bearer('gp', 'A81001') });
    expect(asGp.status).toBe(403);
  });

  describe('when the patient is sealed under the referral’s key (referral.requested.v2, ADR 14)', () => {
    it('fetches the key with its own service token, opens the patient and emails them', async () => {
      const referralId = randomUUID();
      const email = `sealed-${uniqueSuffix()}@example.test`;
      const key: DataKey = { kid: 'kid-1', key: randomBytes(32) };
      keyServer.keys.set(referralId, key);
      const event = referralRequestedV2(referralId, email, key);
      expect(JSON.stringify(event.data)).not.toContain(email);
      await publish(event);
      await eventually(async () => ((await rowsFor(event.id))[0]?.status === 'sent' ? true : undefined), 30_000);
      expect(await mailTo(email)).toHaveLength(1);
      const [, payload] = keyServer.tokens
        .at(-1)!
        .replace(/^Bearer /, '')
        .split('.');
      expect(JSON.parse(Buffer.from(payload!, 'base64url').toString())).toMatchObject({ role: 'system', sub: 'notification' });
    });

    it('skips an event whose key was destroyed, deliberately: nobody is emailed, nothing is dead-lettered, the next event is handled', async () => {
      const referralId = randomUUID();
      const erased = `erased-${uniqueSuffix()}@example.test`;
      keyServer.keys.set(referralId, 'destroyed');
      const event = referralRequestedV2(referralId, erased, { kid: 'kid-1', key: randomBytes(32) });
      await publish(event);
      // The same key, so the same partition, after it: once this one is handled, so is the erased one.
      const marker = referralRequested(referralId, `marker-${uniqueSuffix()}@example.test`);
      await publish(marker);
      await eventually(async () => ((await rowsFor(marker.id)).length === 1 ? true : undefined), 30_000);
      expect(await rowsFor(event.id)).toEqual([]);
      expect(await mailTo(erased)).toEqual([]);
      expect(ourDeadLetters(event.id)).toEqual([]);
    });

    it('waits while the referral service cannot serve the key (restarting: 503), never dead-letters nor sends in clear, then sends once', async () => {
      const referralId = randomUUID();
      const email = `unreachable-${uniqueSuffix()}@example.test`;
      const key = { kid: 'kid-1', key: randomBytes(32) };
      const event = referralRequestedV2(referralId, email, key);
      const asked = keyServer.tokens.length;
      await publish(event);
      // The key is asked for again and again (the record is handled again once the service is back) ...
      await eventually(async () => (keyServer.tokens.length >= asked + 2 ? true : undefined), 60_000);
      expect(ourDeadLetters(event.id)).toEqual([]);
      expect(await mailTo(email)).toEqual([]);
      // ... and once the referral service can serve it, the patient is told, once.
      keyServer.keys.set(referralId, key);
      const mails = await eventually(async () => {
        const m = await mailTo(email);
        return m.length > 0 ? m : undefined;
      }, 60_000);
      expect(mails).toHaveLength(1);
      expect(ourDeadLetters(event.id)).toEqual([]);
    });
  });
});
