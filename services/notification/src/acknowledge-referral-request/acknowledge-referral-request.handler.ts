import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { EventEnvelope, ReferralRequestedData } from '@sonet/contracts';
import { NOTIFICATION_CONFIG, palsContactFrom, type NotificationConfig } from '../config';
import { planNotification, type PlannedNotification } from '../domain/planned-notification';
import { recordRequestBeforeCommit, recordRequests } from '../domain/pending-requests';
import { patientContactDetails, patientContactOf } from '../domain/patient-contact';
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
 * told to), in the inbox transaction; the dispatcher sends them. Given the inbox's `beforeCommit`, the writes wait
 * for the end of the transaction and go with the other requests of its group in one statement.
 */
@Injectable()
export class AcknowledgeReferralRequestHandler {
  private readonly pals: PalsContact;

  constructor(@Inject(NOTIFICATION_CONFIG) config: NotificationConfig) {
    this.pals = palsContactFrom(config);
  }

  async execute(
    em: EntityManager,
    event: EventEnvelope<ReferralRequestedData>,
    beforeCommit?: (work: () => Promise<void>) => void,
  ): Promise<void> {
    const request = { planned: planReferralRequested(event, this.pals), data: event.data };
    if (beforeCommit) recordRequestBeforeCommit(em, request, beforeCommit);
    else await recordRequests(em, [request], new Date());
  }
}
