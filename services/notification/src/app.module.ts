import { Module, type DynamicModule } from '@nestjs/common';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { MikroORM, PostgreSqlDriver } from '@mikro-orm/postgresql';
import { LoggerModule } from 'nestjs-pino';
import { AuthModule, verifierSettingsFrom } from '@sonet/auth';
import { MESSAGE_BROKER, MessagingModule, type MessageBroker } from '@sonet/messaging';
import { HealthModule, loggerParams, type ReadinessProbe } from '@sonet/service-kit';
import { NOTIFICATION_CONFIG, SERVICE_NAME, type NotificationConfig } from './config';
import { notificationOrmOptions } from './orm';
import { EMAIL_SENDER, type EmailSender } from './channels/email.sender';
import { EmailChannelModule } from './channels/email-channel.module';
import { AcknowledgeReferralRequestConsumer } from './acknowledge-referral-request/acknowledge-referral-request.consumer';
import { AcknowledgeReferralRequestHandler } from './acknowledge-referral-request/acknowledge-referral-request.handler';
import { NotifyReferralProgressConsumer } from './notify-referral-progress/notify-referral-progress.consumer';
import { NotifyReferralProgressHandler } from './notify-referral-progress/notify-referral-progress.handler';
import { NotifyRecordsGapsConsumer } from './notify-records-gaps/notify-records-gaps.consumer';
import { NotifyRecordsGapsHandler } from './notify-records-gaps/notify-records-gaps.handler';
import { DispatchNotificationsHandler } from './dispatch-notifications/dispatch-notifications.handler';
import { NotificationDispatcherService } from './dispatch-notifications/notification-dispatcher.service';
import { ListNotificationsController } from './list-notifications/list-notifications.http.controller';
import { ListNotificationsHandler } from './list-notifications/list-notifications.handler';

@Module({})
export class NotificationAppModule {
  static forRoot(config: NotificationConfig): DynamicModule {
    return {
      module: NotificationAppModule,
      imports: [
        LoggerModule.forRoot(loggerParams(SERVICE_NAME, config.LOG_LEVEL)),
        AuthModule.forRoot(verifierSettingsFrom(config)),
        MikroOrmModule.forRoot({ ...notificationOrmOptions(config), driver: PostgreSqlDriver }),
        EmailChannelModule.forRoot(config),
        MessagingModule.forRoot({ clientId: SERVICE_NAME, inject: [], brokers: () => config.KAFKA_BROKERS }),
        HealthModule.forRoot({
          inject: [MikroORM, MESSAGE_BROKER, EMAIL_SENDER],
          useFactory: (orm: MikroORM, broker: MessageBroker, email: EmailSender): ReadinessProbe[] => [
            { name: 'database', check: async () => void (await orm.em.fork().execute('select 1')) },
            { name: 'kafka', check: () => broker.ping() },
            { name: 'smtp', check: () => email.verify() },
          ],
        }),
      ],
      controllers: [AcknowledgeReferralRequestConsumer, NotifyReferralProgressConsumer, NotifyRecordsGapsConsumer, ListNotificationsController],
      providers: [
        { provide: NOTIFICATION_CONFIG, useValue: config },
        AcknowledgeReferralRequestHandler,
        NotifyReferralProgressHandler,
        NotifyRecordsGapsHandler,
        DispatchNotificationsHandler,
        NotificationDispatcherService,
        ListNotificationsHandler,
      ],
    };
  }
}
