import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { runMigrations } from '@sonet/service-kit';
import { freshDatabase, LOCAL_NOTIFY, LocalNotifyServer } from '@sonet/testing';
import { readNotificationConfig, type NotificationConfig } from '../config';
import { notificationOrmOptions } from '../orm';
import { planNotification, recordNotifications } from '../domain/planned-notification';
import { DispatchNotificationsHandler } from '../dispatch-notifications/dispatch-notifications.handler';
import type { EmailSender } from './email.sender';
import { NotifySender } from './notify.sender';
import { NotifyRateLimiter, sendsPerWindow } from './notify-rate-limiter';

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
    await notify.start();
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

  async function anSms(): Promise<string> {
    const plan = planNotification({
      event: { id: randomUUID(), type: 'referral.requested.v1' },
      referralId: randomUUID(),
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
    await sender.send({ notificationId: id, channel: 'sms', to: claimed!.address!, subject: claimed!.subject, text: claimed!.smsText! });
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
});
