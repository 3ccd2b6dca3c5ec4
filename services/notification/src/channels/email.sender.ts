import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { createTransport, type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { NOTIFICATION_CONFIG, type NotificationConfig } from '../config';
import { redactAddresses } from '../domain/redaction';

export interface OutgoingEmail {
  /** Our notification id: becomes the Message-ID, so a re-sent duplicate can be recognised downstream. */
  readonly notificationId: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/** The port the dispatcher sends email through; SMTP today, GOV.UK Notify later. */
export interface EmailSender {
  send(email: OutgoingEmail): Promise<void>;
  /** Succeeds when the mail server answers (and accepts our credentials). */
  verify(): Promise<void>;
}

export const EMAIL_SENDER = Symbol('EmailSender');

/** A send that did not go through; the message never contains a recipient address. */
export class SendError extends Error {
  constructor(
    message: string,
    /** Retrying cannot help (the server rejected the message or recipient for good). */
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'SendError';
  }
}

/** Classifies a nodemailer error: a 5xx SMTP reply is permanent, everything else (network, 4xx) is worth retrying. */
export function toSendError(e: unknown): SendError {
  const err = e as { message?: unknown; code?: unknown; responseCode?: unknown };
  const responseCode = typeof err?.responseCode === 'number' ? err.responseCode : undefined;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  const message = redactAddresses(typeof err?.message === 'string' ? err.message : String(e)).slice(0, 1000);
  const prefix = [code, responseCode].filter((x) => x !== undefined).join(' ');
  return new SendError(prefix ? `${prefix}: ${message}` : message, responseCode !== undefined && responseCode >= 500 && responseCode < 600);
}

export const messageIdFor = (notificationId: string, domain: string): string => `<${notificationId}@${domain}>`;

@Injectable()
export class SmtpEmailSender implements EmailSender, OnApplicationShutdown {
  private readonly transporter: Transporter<SMTPTransport.SentMessageInfo, SMTPTransport.Options>;

  constructor(@Inject(NOTIFICATION_CONFIG) private readonly config: NotificationConfig) {
    // Creating a transport opens nothing; connections are made per message (and by verify()).
    this.transporter = createTransport({
      host: config.SMTP_HOST,
      port: config.SMTP_PORT,
      secure: config.SMTP_SECURE,
      ...(config.SMTP_USER && config.SMTP_PASSWORD ? { auth: { user: config.SMTP_USER, pass: config.SMTP_PASSWORD } } : {}),
      connectionTimeout: config.SMTP_TIMEOUT_MS,
      greetingTimeout: config.SMTP_TIMEOUT_MS,
      socketTimeout: config.SMTP_TIMEOUT_MS,
      // Message content is ours, but never let a template reach the file system or the network.
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: false,
    });
  }

  async send(email: OutgoingEmail): Promise<void> {
    try {
      await this.transporter.sendMail({
        from: this.config.MAIL_FROM,
        to: email.to,
        subject: email.subject,
        text: email.text,
        messageId: messageIdFor(email.notificationId, this.config.MESSAGE_ID_DOMAIN),
      });
    } catch (e) {
      throw toSendError(e);
    }
  }

  async verify(): Promise<void> {
    try {
      await this.transporter.verify();
    } catch (e) {
      throw toSendError(e);
    }
  }

  onApplicationShutdown(): void {
    this.transporter.close();
  }
}
