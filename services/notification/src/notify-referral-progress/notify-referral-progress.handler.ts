import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { NOTIFICATION_CONFIG, palsContactFrom, type NotificationConfig } from '../config';
import { recordNotifications, warnUnsendable, type RecordedNotification } from '../domain/planned-notification';
import { flushPendingRequests } from '../domain/pending-requests';
import { applyToContacts, loadContacts, saveContacts } from '../domain/referral-contacts';
import type { ReferralProcessEvent } from '../domain/referral-process-event';
import { safeErrorMessage } from '../domain/redaction';
import { planReferralProgress, type RoutingDefaults } from './recipients.decider';

/**
 * No contact details for the referral yet: its referral.requested.v1 has not been handled. With the referral id
 * as the Kafka key that cannot happen in order, so this is a replay or a misrouted event. Not permanent: the
 * inbox retries it, then dead-letters it for operations to replay after the request. Carries ids only.
 */
export class ReferralNotKnownError extends Error {
  constructor(referralId: string, eventType: string) {
    super(`no contact details for referral ${referralId} (${eventType} arrived before referral.requested.v1); will retry`);
    this.name = 'ReferralNotKnownError';
  }
}

/**
 * Records who is told what about a referral process event, in the inbox transaction: the notifications and the
 * change to the referral's contacts commit together with the inbox row; the dispatcher sends them.
 */
@Injectable()
export class NotifyReferralProgressHandler {
  private readonly logger = new Logger(NotifyReferralProgressHandler.name);
  private readonly defaults: RoutingDefaults;

  constructor(@Inject(NOTIFICATION_CONFIG) config: NotificationConfig) {
    this.defaults = { pals: palsContactFrom(config) };
  }

  async execute(em: EntityManager, event: ReferralProcessEvent): Promise<RecordedNotification[]> {
    const referralId = event.data.referralId;
    const now = new Date();
    let recorded: Awaited<ReturnType<typeof recordNotifications>>;
    try {
      // A request earlier in this transaction (same group of events) is written before its contacts are read.
      await flushPendingRequests(em);
      const contacts = await loadContacts(em, referralId);
      if (!contacts) throw new ReferralNotKnownError(referralId, event.type);
      // Decided on the contacts as they were before this event (e.g. a rejected team is still known by name).
      recorded = await recordNotifications(em, planReferralProgress(event, contacts, this.defaults), now);
      const next = applyToContacts(contacts, event);
      if (next !== contacts) await saveContacts(em, next, now);
    } catch (e) {
      if (e instanceof ReferralNotKnownError) throw e;
      // A database error's detail quotes the row (address, name, body): only a safe description travels on.
      throw new Error(`recording notifications failed: ${safeErrorMessage(e)}`);
    }
    warnUnsendable(this.logger, recorded);
    return recorded.map((r) => r.notification);
  }
}
