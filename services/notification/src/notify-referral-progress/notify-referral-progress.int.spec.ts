import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MikroORM } from '@mikro-orm/postgresql';
import {
  dlqTopicOf,
  headerText,
  ReferralGpDeclined,
  ReferralReferred,
  ReferralReminderDue,
  ReferralRequested,
  Topics,
  toWireMessage,
  type EventEnvelope,
} from '@sonet/contracts';
import {
  buildEvent,
  KafkaBroker,
  type MessagePublisher,
  type ReceivedRecord,
  readTopicsIntoMemory,
  startGroupAtEnd,
} from '@sonet/messaging';
import { runMigrations } from '@sonet/service-kit';
import { eventually, freshDatabase, integrationSettings, testTokens, uniqueSuffix } from '@sonet/testing';
import { readNotificationConfig, type NotificationConfig } from '../config';
import { notificationOrmOptions } from '../orm';
import { startNotificationService } from '../service';

jest.setTimeout(120_000);

const settings = integrationSettings();
const NHS_NUMBER = '9434765919';
const EVENT_PALS = {
  name: 'PALS, General Hospital',
  phone: '01632 960 555',
  email: 'pals@general.nhs.invalid',
  url: 'https://general.nhs.invalid/pals',
};

interface MailDevMessage {
  subject: string;
  text: string;
  to: { address: string }[];
  headers: Record<string, string>;
}

/** This instance's Message-ID domain: a notification service of a running network may mail the same addresses. */
const MESSAGE_ID_DOMAIN = `notification-progress-test-${uniqueSuffix()}.invalid`;

async function mailTo(address: string): Promise<MailDevMessage[]> {
  const res = await fetch(`${settings.mailHttp}/api/email?to.address=${encodeURIComponent(address)}`);
  if (!res.ok) throw new Error(`MailDev answered ${res.status}`);
  const all = (await res.json()) as MailDevMessage[];
  return all.filter((m) => m.to.some((t) => t.address === address) && (m.headers['message-id'] ?? '').endsWith(`@${MESSAGE_ID_DOMAIN}>`));
}

const mailCount = async (address: string, n: number) => ((await mailTo(address)).length >= n ? true : undefined);

interface Parties {
  referralId: string;
  patient: string;
  gp?: string;
  originalTeam: string;
  targetTeam: string;
}

const parties = (withGpEmail = true): Parties => {
  const s = uniqueSuffix();
  return {
    referralId: randomUUID(),
    patient: `patient-${s}@example.test`,
    ...(withGpEmail ? { gp: `gp-${s}@example.test` } : {}),
    originalTeam: `original-${s}@example.test`,
    targetTeam: `target-${s}@example.test`,
  };
};

const envelope = <E extends EventEnvelope>(e: E) => e as EventEnvelope;

const requested = (p: Parties) =>
  envelope(
    buildEvent(ReferralRequested, {
      id: randomUUID(),
      source: '/sonet/referral',
      subject: p.referralId,
      data: {
        referralId: p.referralId,
        referringPractice: 'A81001',
        ...(p.gp ? { referringPracticeEmail: p.gp } : {}),
        originalTeam: { ods: 'RX1', name: 'Cardiology, General Hospital', contactEmail: p.originalTeam },
        specialty: 'cardiology',
        urgency: 'routine',
        reason: 'Would like a second view on the proposed treatment',
        explainedByOriginalTeam: true,
        patient: { nhsNumber: NHS_NUMBER, name: 'Sam Tester', email: p.patient, preferredChannel: 'email' },
        requestedAt: new Date().toISOString(),
      },
    }),
  );

const referred = (p: Parties) =>
  envelope(
    buildEvent(ReferralReferred, {
      id: randomUUID(),
      source: '/sonet/referral',
      subject: p.referralId,
      data: {
        referralId: p.referralId,
        secondOpinion: true,
        referringPractice: 'A81001',
        originalTeam: { ods: 'RX1', name: 'Cardiology, General Hospital' },
        targetTeam: { ods: 'RY2', name: 'Cardiology, City Hospital', teamId: 'team-ry2', contactEmail: p.targetTeam },
        specialty: 'cardiology',
        urgency: 'urgent',
        distanceKm: 19.3,
        triageDueAt: '2026-12-08T17:00:00.000Z',
        attempt: 1,
      },
    }),
  );

const gpDeclined = (referralId: string) =>
  envelope(
    buildEvent(ReferralGpDeclined, {
      id: randomUUID(),
      source: '/sonet/referral',
      subject: referralId,
      data: {
        referralId,
        reason: 'Your symptoms are well explained by the current diagnosis.',
        declinedBy: { role: 'gp', organisation: 'A81001' },
        pals: EVENT_PALS,
        nextSteps: 'You can talk to your GP again about your concerns.',
      },
    }),
  );

/** A later event on the same referral (so the same partition): once it is handled, so is everything before it. */
const gpReminder = (referralId: string) =>
  envelope(
    buildEvent(ReferralReminderDue, {
      id: randomUUID(),
      source: '/sonet/referral',
      subject: referralId,
      data: { referralId, step: 'gp-decision', dueAt: '2026-12-01T17:00:00.000Z', overdue: false, recipientRole: 'gp' },
    }),
  );

describe('referral progress notifications against PostgreSQL, Kafka and MailDev', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let config: NotificationConfig;
  let app: NestFastifyApplication;
  let broker: KafkaBroker;
  let publisher: MessagePublisher;
  let deadLetters: { records: ReceivedRecord[]; stop: () => Promise<void> };

  const publish = (...events: EventEnvelope[]) =>
    publisher.publish(events.map((event) => ({ topic: Topics.referralEvents, message: toWireMessage(event) })));
  const sql = <T>(query: string, params: unknown[]) => app.get(MikroORM).em.fork().execute<T[]>(query, params);
  const rowsFor = (causationEventId: string) =>
    sql<{ id: string; recipient_role: string; template: string; status: string }>(
      'select id, recipient_role, template, status from notification where causation_event_id = ? order by recipient_role',
      [causationEventId],
    );
  const allSent = async (eventId: string, n: number) => {
    const rows = await rowsFor(eventId);
    return rows.length === n && rows.every((r) => r.status === 'sent') ? rows : undefined;
  };
  const sentOutboxCount = async (eventId: string) =>
    Number(
      (
        await sql<{ n: string }>(
          `select count(*) as n from outbox where event_type = 'notification.sent.v1' and value::jsonb ->> 'causationEventId' = ?`,
          [eventId],
        )
      )[0]!.n,
    );

  beforeAll(async () => {
    const tokens = await testTokens();
    db = await freshDatabase('notification_progress');
    config = readNotificationConfig({
      ...process.env,
      ...tokens.env,
      PGDATABASE: db.dbName,
      HTTP_PORT: '0',
      KAFKA_CONSUMER_GROUP: `notification.test-${uniqueSuffix()}`,
      LOG_LEVEL: 'error',
      DISPATCH_INTERVAL_MS: '100',
      MESSAGE_ID_DOMAIN,
    });
    await runMigrations(notificationOrmOptions(config));
    await startGroupAtEnd(settings.kafkaBrokers, config.KAFKA_CONSUMER_GROUP, [Topics.referralEvents, Topics.recordsEvents]);
    deadLetters = await readTopicsIntoMemory(settings.kafkaBrokers, [dlqTopicOf(Topics.referralEvents)]);
    app = await startNotificationService(config);
    broker = new KafkaBroker({ brokers: settings.kafkaBrokers, clientId: `test-publisher-${uniqueSuffix()}` });
    publisher = await broker.publisher();
  });

  afterAll(async () => {
    await app?.close();
    await broker?.close();
    await deadLetters?.stop();
    await db?.drop();
  });

  describe('when the GP refers one patient and declines another', () => {
    const a = parties();
    const b = parties(false); // this practice has no email address in the directory
    const aRequested = requested(a);
    const aReferred = referred(a);
    const bRequested = requested(b);
    const bDeclined = gpDeclined(b.referralId);

    beforeAll(async () => {
      await publish(aRequested, aReferred, bRequested, bDeclined);
      await eventually(() => allSent(aReferred.id, 2), 30_000);
      await eventually(() => allSent(bDeclined.id, 1), 30_000);
    });

    it('tells the referred patient which team, that it is a new referral and that care does not move', async () => {
      await eventually(() => mailCount(a.patient, 2), 30_000);
      const mails = await mailTo(a.patient);
      expect(mails.map((m) => m.subject).sort()).toEqual([
        'We have received your request for a second opinion',
        'You have been referred for a second opinion',
      ]);
      const mail = mails.find((m) => m.subject === 'You have been referred for a second opinion')!;
      expect(mail.text).toContain('Team: Cardiology, City Hospital');
      expect(mail.text).toContain('It is a new referral');
      expect(mail.text).toContain('may be at a different hospital');
      expect(mail.text).toContain('will not automatically take over your care');
      expect(mail.text.replace(/\s/g, '')).not.toContain(NHS_NUMBER);
    });

    it('tells the receiving team of a new referral flagged SECOND OPINION, at the address its referral carries', async () => {
      await eventually(() => mailCount(a.targetTeam, 1), 30_000);
      const [mail] = await mailTo(a.targetTeam);
      expect(mail!.subject).toContain('SECOND OPINION');
      expect(mail!.subject).toContain('URGENT');
      expect(mail!.text).toContain('Urgency: URGENT');
      expect(mail!.text.replace(/\s/g, '')).not.toContain(NHS_NUMBER);
    });

    it('rule 1: tells the declined patient why, and how to reach PALS', async () => {
      await eventually(() => mailCount(b.patient, 2), 30_000);
      const mail = (await mailTo(b.patient)).find((m) => m.subject === "Your GP's decision about a second opinion");
      expect(mail!.text).toContain('Your symptoms are well explained by the current diagnosis.');
      expect(mail!.text).toContain('Patient Advice and Liaison Service (PALS)');
      expect(mail!.text).toContain(EVENT_PALS.phone);
    });

    it('does not tell the original team (the patient has not chosen to, rule 9)', async () => {
      expect(await mailTo(a.originalTeam)).toEqual([]);
    });

    it('keeps the contacts the referral gave, without the NHS number', async () => {
      const [row] = await sql<Record<string, unknown>>('select * from referral_contact where referral_id = ?', [a.referralId]);
      expect(row).toMatchObject({
        patient_email: a.patient,
        referring_practice_email: a.gp,
        target_team_email: a.targetTeam,
        target_attempt: 1,
      });
      expect(JSON.stringify(row)).not.toContain(NHS_NUMBER);
    });

    it('sends nothing more when the same events are delivered again', async () => {
      await publish(aReferred, bDeclined);
      const markerA = gpReminder(a.referralId);
      const markerB = gpReminder(b.referralId);
      await publish(markerA, markerB);
      const [markerRowA] = await eventually(() => allSent(markerA.id, 1), 30_000);
      expect(markerRowA).toMatchObject({ recipient_role: 'gp', template: 'gp-reminder' });
      // B's practice has no address: recorded, visible to operations, not sent, and nothing crashed.
      const [markerRowB] = await eventually(async () => {
        const rows = await rowsFor(markerB.id);
        return rows.length === 1 ? rows : undefined;
      }, 30_000);
      expect(markerRowB).toMatchObject({ recipient_role: 'gp', status: 'no-address' });

      expect(await rowsFor(aReferred.id)).toHaveLength(2);
      expect(await rowsFor(bDeclined.id)).toHaveLength(1);
      expect(await mailTo(a.patient)).toHaveLength(2);
      expect(await mailTo(a.targetTeam)).toHaveLength(1);
      expect(await mailTo(b.patient)).toHaveLength(2);
      expect(await mailTo(a.gp!)).toHaveLength(1); // the marker reminder only
      // Kafka may also carry these event ids from a running notification service; count our own outbox.
      expect(await sentOutboxCount(aReferred.id)).toBe(2);
      expect(await sentOutboxCount(bDeclined.id)).toBe(1);
    });
  });

  describe('when a referral is requested twice and referred at once (one group of events, written together)', () => {
    it("records both acknowledgements, takes the second request's patient details, and tells the referred patient there", async () => {
      const c = parties();
      const first = requested(c);
      const changed = { ...c, patient: `changed-${c.patient}` };
      const second = requested(changed);
      const cReferred = referred(c);
      await publish(first, second, cReferred);
      await eventually(() => allSent(cReferred.id, 2), 30_000);
      expect(await allSent(first.id, 1)).toBeDefined();
      expect(await allSent(second.id, 1)).toBeDefined();
      const [row] = await sql<Record<string, unknown>>('select * from referral_contact where referral_id = ?', [c.referralId]);
      expect(row).toMatchObject({ patient_email: changed.patient, target_team_email: c.targetTeam, target_attempt: 1 });
      await eventually(() => mailCount(changed.patient, 2), 30_000);
      expect((await mailTo(c.patient)).map((m) => m.subject)).toEqual(['We have received your request for a second opinion']);
    });
  });

  describe('when an event arrives for a referral this service has not seen requested', () => {
    it('retries it, then dead-letters it without recording any notification', async () => {
      const orphan = gpDeclined(randomUUID());
      await publish(orphan);
      const dead = await eventually(
        async () =>
          deadLetters.records.find(
            (r) => headerText(r.headers.ce_id) === orphan.id && headerText(r.headers['dlq-consumer-group']) === config.KAFKA_CONSUMER_GROUP,
          ),
        60_000,
      );
      expect(headerText(dead.headers['dlq-reason'])).toBe('handler-failed');
      expect(Number(headerText(dead.headers['dlq-attempts']))).toBeGreaterThan(1);
      expect(headerText(dead.headers['dlq-error'])).toContain('no contact details for referral');
      expect(await rowsFor(orphan.id)).toEqual([]);
    });
  });
});
