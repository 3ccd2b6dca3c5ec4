import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { createSecretKey } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import axios from 'axios';
import { NotifyClient } from 'notifications-node-client';
import type { ContactChannel } from '@sonet/contracts';
import { NOTIFICATION_CONFIG, type MessageTemplateIds, type NotificationConfig } from '../config';
import type { TemplateName } from '../templates';
import { shortReference } from '../templates/sms.templates';
import { redactAddresses } from '../domain/redaction';
import { SendError } from './email.sender';

/** One message for GOV.UK Notify; `reference` is our notification id (receipts and look-ups map back by it). */
export interface NotifyMessage {
  readonly notificationId: string;
  readonly referralId: string;
  /** Our message (template name): it picks a Notify template of its own when NOTIFY_MESSAGE_TEMPLATES names one. */
  readonly template: string;
  readonly channel: ContactChannel;
  /** Mobile (sms), email address (email) or the letter's address lines joined by newlines (letter). */
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/** Notify answered 429: over the per-key rate limit or the daily limit. Not the message's fault: it waits, uncounted. */
export class RateLimitedError extends SendError {
  constructor(message: string) {
    super(message, false);
    this.name = 'RateLimitedError';
  }
}

/** Notify's own id for an accepted message. */
export interface NotifyAcceptance {
  readonly providerId: string;
}

export const NOTIFY_SENDER = Symbol('NotifySender');

/** Notify's error answer `{ status_code, errors: [{ error, message }] }` as a SendError without addresses. */
export function toNotifySendError(e: unknown): SendError {
  const err = e as {
    response?: { status?: number; data?: { errors?: { error?: string; message?: string }[] } };
    code?: string;
    message?: string;
  };
  const status = err.response?.status;
  const first = err.response?.data?.errors?.[0];
  const text = redactAddresses(first ? `${first.error ?? 'Error'}: ${first.message ?? ''}` : (err.code ?? err.message ?? String(e))).slice(
    0,
    500,
  );
  if (status === 429) return new RateLimitedError(`notify 429 ${text}`);
  // 400: the recipient, template or personalisation was refused; sending it again cannot help.
  return new SendError(status ? `notify ${status} ${text}` : `notify unreachable: ${text}`, status === 400);
}

/**
 * The official client signs every request's token (HS256) with the API key's secret, kept as a string; jsonwebtoken
 * then tries that string as a private key first and catches the failure, on every request (a tenth of the service's
 * thread at full rate). Given the secret as a KeyObject it signs the same token directly. Left as it is when a later
 * client keeps the secret elsewhere.
 */
export function signWithKeyObject(client: NotifyClient): void {
  const api = (client as unknown as { apiClient?: { apiKeyId?: unknown } }).apiClient;
  if (api && typeof api.apiKeyId === 'string') api.apiKeyId = createSecretKey(Buffer.from(api.apiKeyId));
}

/** GOV.UK Notify through its official client. */
@Injectable()
export class NotifySender implements OnApplicationShutdown {
  private readonly client: NotifyClient;
  // Connections kept open between requests: a dispatcher batch otherwise opens (and TLS-handshakes) one per message.
  private readonly agents = { httpAgent: new HttpAgent({ keepAlive: true }), httpsAgent: new HttpsAgent({ keepAlive: true }) };
  private readonly templates: Readonly<Record<ContactChannel, string>>;
  private readonly messageTemplates: MessageTemplateIds;

  constructor(@Inject(NOTIFICATION_CONFIG) config: NotificationConfig) {
    if (!config.NOTIFY_API_KEY) throw new Error('NotifySender needs NOTIFY_API_KEY');
    this.client = new NotifyClient(config.NOTIFY_BASE_URL, config.NOTIFY_API_KEY);
    // The client's default axios has no timeout: a hung request would outlive the dispatcher's lease. Notify's API
    // answers without redirects; with none to follow, axios sends through Node's http directly (follow-redirects'
    // wrapper cost about a twentieth of the service's thread at full rate).
    this.client.setClient(axios.create({ timeout: config.NOTIFY_TIMEOUT_MS, maxRedirects: 0, ...this.agents }));
    signWithKeyObject(this.client);
    this.templates = { sms: config.NOTIFY_TEMPLATE_SMS, email: config.NOTIFY_TEMPLATE_EMAIL, letter: config.NOTIFY_TEMPLATE_LETTER };
    this.messageTemplates = config.NOTIFY_MESSAGE_TEMPLATES ?? {};
  }

  /** The Notify template for a message on a channel, and what it is filled with. */
  templateFor(m: Pick<NotifyMessage, 'template' | 'channel' | 'referralId'>): { templateId: string; extra: Record<string, string> } {
    const own = this.messageTemplates[m.template as TemplateName]?.[m.channel];
    return own
      ? { templateId: own, extra: { reference: shortReference(m.referralId) } }
      : { templateId: this.templates[m.channel], extra: {} };
  }

  onApplicationShutdown(): void {
    this.agents.httpAgent.destroy();
    this.agents.httpsAgent.destroy();
  }

  async send(m: NotifyMessage): Promise<NotifyAcceptance> {
    try {
      const { templateId, extra } = this.templateFor(m);
      const reference = m.notificationId;
      const res =
        m.channel === 'sms'
          ? await this.client.sendSms(templateId, m.to, { personalisation: { ...extra, body: m.text }, reference })
          : m.channel === 'email'
            ? await this.client.sendEmail(templateId, m.to, { personalisation: { ...extra, subject: m.subject, body: m.text }, reference })
            : await this.client.sendLetter(templateId, {
                personalisation: { ...extra, ...letterAddress(m.to), subject: m.subject, body: m.text },
                reference,
              });
      return { providerId: res.data.id };
    } catch (e) {
      throw toNotifySendError(e);
    }
  }

  /**
   * The message Notify already accepted for this notification on this channel, if any. Asked before a re-send
   * whose earlier try may have been accepted without our knowing (a crash between Notify's 201 and our commit).
   */
  async findByReference(notificationId: string, channel: ContactChannel): Promise<NotifyAcceptance | undefined> {
    try {
      const res = await this.client.getNotifications(channel, undefined, notificationId);
      const found = res.data.notifications.find((n) => n.reference === notificationId);
      return found ? { providerId: found.id } : undefined;
    } catch (e) {
      throw toNotifySendError(e);
    }
  }
}

/** Notify's letter personalisation: address_line_1 … address_line_7, the postcode last. */
function letterAddress(lines: string): Record<string, string> {
  return Object.fromEntries(
    lines
      .split('\n')
      .slice(0, 7)
      .map((line, i) => [`address_line_${i + 1}`, line]),
  );
}
