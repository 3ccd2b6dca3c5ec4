import { Module, type DynamicModule } from '@nestjs/common';
import { NOTIFICATION_CONFIG, type NotificationConfig } from '../config';
import { EMAIL_SENDER, SmtpEmailSender } from './email.sender';

/** The email channel, global so the dispatcher and the readiness probe share one transport. */
@Module({})
export class EmailChannelModule {
  static forRoot(config: NotificationConfig): DynamicModule {
    return {
      module: EmailChannelModule,
      global: true,
      providers: [
        { provide: NOTIFICATION_CONFIG, useValue: config },
        SmtpEmailSender,
        { provide: EMAIL_SENDER, useExisting: SmtpEmailSender },
      ],
      exports: [EMAIL_SENDER],
    };
  }
}
