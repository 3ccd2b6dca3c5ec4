import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { runMigrations } from '@sonet/service-kit';
import { eventually, freshDatabase } from '@sonet/testing';
import { readNotificationConfig, type NotificationConfig } from '../config';
import { notificationOrmOptions } from '../orm';
import { planNotification, recordNotifications } from '../domain/planned-notification';
import type { ContactDetails } from '../domain/channel';
import { SendError, type EmailSender, type OutgoingEmail } from '../channels/email.sender';
import { DispatchNotificationsHandler } from './dispatch-notifications.handler';

jest.setTimeout(60_000);

/** A mail server stand-in: records what it was given and fails the way it is told to. */
class ScriptedSender implements EmailSender {
  readonly sent: OutgoingEmail[] = [];
  constructor(private readonly outcome: () => SendError | undefined) {}
  async send(email: OutgoingEmail): Promise<void> {
    const error = this.outcome();
    if (error) throw error;
    this.sent.push(email);
  }
  async verify(): Promise<void> {}
}

describe('the dispatcher against PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let config: NotificationConfig;
  let orm: MikroORM;

  beforeAll(async () => {
    Logger.overrideLogger(false); // outcomes are asserted below; the log lines would only be noise here
    db = await freshDatabase('notification_dispatch');
    config = readNotificationConfig({
      ...process.env,
      PGDATABASE: db.dbName,
      MAX_SEND_ATTEMPTS: '3',
      SEND_BACKOFF_BASE_MS: '1',
      SEND_BACKOFF_MAX_MS: '5',
    });
    await runMigrations(notificationOrmOptions(config));
    orm = await MikroORM.init(notificationOrmOptions(config));
  });

  afterAll(async () => {
    await orm?.close(true);
    await db?.drop();
  });

  /** Records one notification for a new referral and returns its id and referral id. */
  async function aNotification(contact: ContactDetails = { preferences: ['email'], email: `p-${randomUUID()}@example.test` }) {
    const referralId = randomUUID();
    const plan = planNotification({
      event: { id: randomUUID(), type: 'referral.requested.v1' },
      referralId,
      recipientRole: 'patient',
      contact,
      template: 'patient-acknowledgement',
      rendered: { subject: 'Subject', text: 'Body' },
    });
    await orm.em.fork().transactional(async (em) => {
      await recordNotifications(em, [plan], new Date());
    });
    return { id: plan.id, referralId };
  }

  const row = async (id: string) =>
    (
      await orm.em.fork().execute<
        {
          status: string;
          attempts: number;
          last_error: string | null;
          next_attempt_at: Date | null;
          channel: string;
          route_step: number;
        }[]
      >('select status, attempts, last_error, next_attempt_at, channel, route_step from notification where id = ?', [id])
    )[0];
  const outboxFor = (referralId: string) =>
    orm.em
      .fork()
      .execute<{ event_type: string; value: string }[]>('select event_type, value from outbox where key = ? order by seq', [referralId]);

  /** Runs dispatch rounds until the notification leaves `pending` (backoffs here are milliseconds). */
  const dispatchUntilSettled = (handler: DispatchNotificationsHandler, id: string) =>
    eventually(
      async () => {
        await handler.dispatchBatch();
        const r = await row(id);
        return r?.status === 'pending' ? undefined : r;
      },
      10_000,
      10,
    );

  it('sends with the notification id, marks it sent and emits notification.sent.v1 once', async () => {
    const sender = new ScriptedSender(() => undefined);
    const handler = new DispatchNotificationsHandler(orm, sender, config);
    const n = await aNotification();
    expect(await dispatchUntilSettled(handler, n.id)).toMatchObject({ status: 'sent', attempts: 1, last_error: null });
    expect(sender.sent.filter((m) => m.notificationId === n.id)).toHaveLength(1);
    await handler.dispatchBatch();
    expect(sender.sent.filter((m) => m.notificationId === n.id)).toHaveLength(1);
    expect((await outboxFor(n.referralId)).map((e) => e.event_type)).toEqual(['notification.sent.v1']);
  });

  it('retries a failing send with backoff and, after MAX_SEND_ATTEMPTS, marks it failed and emits notification.failed.v1', async () => {
    const sender = new ScriptedSender(() => new SendError('ESOCKET: connect ECONNREFUSED', false));
    const handler = new DispatchNotificationsHandler(orm, sender, config);
    const n = await aNotification();

    await handler.dispatchBatch();
    const afterFirst = await row(n.id);
    expect(afterFirst).toMatchObject({ status: 'pending', attempts: 1, last_error: 'ESOCKET: connect ECONNREFUSED' });

    expect(await dispatchUntilSettled(handler, n.id)).toMatchObject({ status: 'failed', attempts: 3 });
    const events = await outboxFor(n.referralId);
    expect(events.map((e) => e.event_type)).toEqual(['notification.failed.v1']);
    expect(JSON.parse(events[0]!.value)).toMatchObject({ notificationId: n.id, attempts: 3, reason: 'ESOCKET: connect ECONNREFUSED' });
  });

  it('gives up at once when the mail server rejects the message permanently', async () => {
    const handler = new DispatchNotificationsHandler(
      orm,
      new ScriptedSender(() => new SendError('550: mailbox unavailable', true)),
      config,
    );
    const n = await aNotification();
    expect(await dispatchUntilSettled(handler, n.id)).toMatchObject({ status: 'failed', attempts: 1 });
    expect((await outboxFor(n.referralId)).map((e) => e.event_type)).toEqual(['notification.failed.v1']);
  });

  it('never lets two dispatchers claim the same notification', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 4; i++) ids.add((await aNotification()).id);
    const handlerOf = () =>
      new DispatchNotificationsHandler(orm, new ScriptedSender(() => undefined), { ...config, DISPATCH_BATCH_SIZE: 3 });
    const claims = (await Promise.all([1, 2, 3, 4].map(() => handlerOf().claim())))
      .flat()
      .map((c) => c.id)
      .filter((id) => ids.has(id));
    expect(new Set(claims).size).toBe(claims.length);
    expect(new Set(claims)).toEqual(ids);
  });

  it('without Notify configured, a text message channel fails over to the next channel the patient agreed to', async () => {
    const n = await aNotification({ preferences: ['sms', 'email'], mobile: '+447700900123', email: `p-${randomUUID()}@example.test` });
    const sender = new ScriptedSender(() => undefined);
    const dispatcher = new DispatchNotificationsHandler(orm, sender, config);
    await dispatcher.dispatchBatch();
    expect(await row(n.id)).toMatchObject({ status: 'pending', channel: 'email', route_step: 2, attempts: 0 });
    await dispatcher.dispatchBatch();
    expect(await row(n.id)).toMatchObject({ status: 'sent', channel: 'email' });
    expect(sender.sent.filter((m) => m.notificationId === n.id)).toHaveLength(1);
  });
});
