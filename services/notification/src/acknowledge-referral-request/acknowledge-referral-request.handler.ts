import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { EventEnvelope, ReferralRequestedData } from '@sonet/contracts';
import { NOTIFICATION_CONFIG, palsContactFrom, type NotificationConfig } from '../config';
import {
  planNotification,
  recordNotificationsWith,
  type PlannedNotification,
  type RecordedNotification,
} from '../domain/planned-notification';
import { patientContactDetails, patientContactOf } from '../domain/patient-contact';
import { contactsFromRequested, insertNewContacts, loadContacts, saveContacts } from '../domain/referral-contacts';
import { safeErrorMessage } from '../domain/redaction';
import { renderTemplate, type PalsContact } from '../templates';

/**
 * Who hears what when a GP records a request for a second opinion. For now: the patient gets an
 * acknowledgement along their channels (the first they agreed to that has an address; the others as fallbacks). Pure, so the decision is tested without a database.
 */
export function planReferralRequested(event: EventEnvelope<ReferralRequestedData>, pals: PalsContact): PlannedNotification[] {
  const patient = patientContactOf(event.data.patient);
  return [
    planNotification({
      event,
      referralId: event.data.referralId,
      recipientRole: 'patient',
      contact: patientContactDetails(patient),
      template: 'patient-acknowledgement',
      rendered: renderTemplate('patient-acknowledgement', { patientName: patient.name, pals }),
      palsPhone: pals.phone,
    }),
  ];
}

export { palsContactFrom };

/**
 * Records the notifications for a ReferralRequested event, and the referral's contacts (who later events are
 * told to), in the inbox transaction; the dispatcher sends them.
 */
@Injectable()
export class AcknowledgeReferralRequestHandler {
  private readonly logger = new Logger(AcknowledgeReferralRequestHandler.name);
  private readonly pals: PalsContact;

  constructor(@Inject(NOTIFICATION_CONFIG) config: NotificationConfig) {
    this.pals = palsContactFrom(config);
  }

  async execute(em: EntityManager, event: EventEnvelope<ReferralRequestedData>): Promise<RecordedNotification[]> {
    const planned = planReferralRequested(event, this.pals);
    const now = new Date();
    let recorded: Awaited<ReturnType<typeof recordNotificationsWith>>['recorded'];
    try {
      // One statement for a referral seen for the first time (nearly all): its notification and its contacts.
      const first = await recordNotificationsWith(em, planned, now, insertNewContacts(contactsFromRequested(event.data), now));
      recorded = first.recorded;
      if (first.alongsideRows === 0) {
        const existing = await loadContacts(em, event.data.referralId);
        await saveContacts(em, contactsFromRequested(event.data, existing), now);
      }
    } catch (e) {
      // The inbox logs this message and copies it into dead-letter headers; a database error's detail would
      // quote the row (address, name, body), so only a safe description travels on. Retried by the inbox.
      throw new Error(`recording notifications failed: ${safeErrorMessage(e)}`);
    }
    for (const { notification: n, created } of recorded) {
      if (created && n.status !== 'pending') {
        // Ids and categories only: never the address or the name.
        this.logger.warn(
          { notificationId: n.id, referralId: n.referralId, recipientRole: n.recipientRole, channel: n.channel, status: n.status },
          'notification recorded but not sendable',
        );
      }
    }
    return recorded.map((r) => r.notification);
  }
}
