import { Injectable } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import type { EventEnvelope, RecordsGapsDetected } from '@sonet/contracts';
import { PermanentError } from '@sonet/messaging';
import { byEmail } from '../domain/patient-contact';
import { planNotification, recordNotifications, type RecordedNotification } from '../domain/planned-notification';
import { flushPendingRequests } from '../domain/pending-requests';
import { loadContacts, type ReferralContacts } from '../domain/referral-contacts';
import { safeErrorMessage } from '../domain/redaction';
import { renderRequest, type TemplateRequest } from '../templates';
import type { RecipientRole } from '../domain/planned-notification';

export type RecordsGapsEvent = EventEnvelope<z.output<typeof RecordsGapsDetected.schema>>;

/**
 * The receiving team is not known here yet (its referral.referred.v1, on another topic, not handled yet): retried by
 * the inbox, dead-lettered if it never comes. Ids only.
 */
export class ReceivingTeamNotKnownError extends Error {
  constructor(referralId: string) {
    super(
      `the receiving team of referral ${referralId} is not known yet (records.gaps-detected.v1 before referral.referred.v1); will retry`,
    );
    this.name = 'ReceivingTeamNotKnownError';
  }
}

/** Who is told about records that could not be sent (rule 4): the referring GP and the receiving team, by email. Pure. */
export function planRecordsGaps(event: RecordsGapsEvent, c: ReferralContacts) {
  const data = {
    referralId: c.referralId,
    patientName: c.patient.name,
    originalTeamName: c.originalTeam.name,
    gaps: event.data.gaps.map((g) => ({ kind: g.kind, reference: g.reference, reason: g.reason })),
  };
  const to = (recipientRole: RecipientRole, email: string | undefined, message: TemplateRequest) =>
    planNotification({
      event,
      referralId: c.referralId,
      recipientRole,
      contact: byEmail(email),
      template: message.template,
      rendered: renderRequest(message),
    });
  return [
    to('gp', c.gp.email, { template: 'gp-records-gaps', data }),
    to('receiving-team', c.targetTeam?.email, { template: 'receiving-team-records-gaps', data }),
  ];
}

@Injectable()
export class NotifyRecordsGapsHandler {
  async execute(em: EntityManager, event: RecordsGapsEvent): Promise<RecordedNotification[]> {
    // A request earlier in this transaction (same group of events) is written before its contacts are read.
    await flushPendingRequests(em);
    const contacts = await loadContacts(em, event.data.referralId);
    // A referral this service never heard of: no one here to tell. Dead-lettered at once with the reason (not lost).
    if (!contacts) throw new PermanentError(`no contact details for referral ${event.data.referralId}: not a referral of this network`);
    if (!contacts.targetTeam) throw new ReceivingTeamNotKnownError(event.data.referralId);
    try {
      const recorded = await recordNotifications(em, planRecordsGaps(event, contacts), new Date());
      return recorded.map((r) => r.notification);
    } catch (e) {
      // A database error's detail quotes the row (address, name, body): only a safe description travels on.
      throw new Error(`recording notifications failed: ${safeErrorMessage(e)}`);
    }
  }
}
