import { Module, type DynamicModule } from '@nestjs/common';
import type { ReadinessProbe } from '@sonet/service-kit';
import { sealedFieldOpenerProvider, ServiceKitModule } from '@sonet/service-host';
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
import { NotificationMetrics } from './metrics/notification.metrics';
import { NOTIFY_SENDER, NotifySender } from './channels/notify.sender';
import { NotifyRateLimiter } from './channels/notify-rate-limiter';
import { RecordDeliveryReceiptController } from './record-delivery-receipt/record-delivery-receipt.http.controller';
import { RecordDeliveryReceiptHandler } from './record-delivery-receipt/record-delivery-receipt.handler';
import { PreviewTemplateController } from './preview-template/preview-template.http.controller';

@Module({})
export class NotificationAppModule {
  static forRoot(config: NotificationConfig): DynamicModule {
    return {
      module: NotificationAppModule,
      imports: [
        ServiceKitModule.forRoot({
          serviceName: SERVICE_NAME,
          config,
          ormOptions: notificationOrmOptions(config),
          // One receipt per message sent: the handler logs each with its outcome; the request log would repeat it.
          unloggedPosts: ['v1/notify/receipts'],
          imports: [EmailChannelModule.forRoot(config)],
          readiness: {
            inject: [EMAIL_SENDER],
            useFactory: (email: EmailSender): ReadinessProbe[] => [{ name: 'smtp', check: () => email.verify() }],
          },
        }),
      ],
      controllers: [
        AcknowledgeReferralRequestConsumer,
        NotifyReferralProgressConsumer,
        NotifyRecordsGapsConsumer,
        ListNotificationsController,
        RecordDeliveryReceiptController,
        PreviewTemplateController,
      ],
      providers: [
        { provide: NOTIFICATION_CONFIG, useValue: config },
        sealedFieldOpenerProvider(SERVICE_NAME, config),
        AcknowledgeReferralRequestHandler,
        NotifyReferralProgressHandler,
        NotifyRecordsGapsHandler,
        DispatchNotificationsHandler,
        NotificationDispatcherService,
        ListNotificationsHandler,
        NotificationMetrics,
        // GOV.UK Notify only when configured: without it, SMS and letter channels fail over to the next channel.
        { provide: NOTIFY_SENDER, useFactory: () => (config.NOTIFY_API_KEY ? new NotifySender(config) : null) },
        NotifyRateLimiter,
        RecordDeliveryReceiptHandler,
      ],
    };
  }
}
