import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { recordAccess, type AccessingPrincipal } from '@sonet/messaging';
import { nativeQuery } from '@sonet/service-kit';
import { ENTRY_COLUMNS, toAuditEventView, type AuditEventView, type EntryRow } from '../domain/audit-event.view';

export interface ReferralTimeline {
  referralId: string;
  items: AuditEventView[];
}

/** Entries of one referral in the order things happened (event time, then chain order); capped for safety. */
export const TIMELINE_SQL = `select ${ENTRY_COLUMNS} from audit_entry where subject = $1::uuid order by event_time, audit_entry.seq limit 10000`;

/**
 * Everything the network said about one referral, across services, in the order it happened (event time, then
 * chain order for events with the same time). Empty when audit has seen nothing about it. Reading it is itself
 * recorded as an access to the referral.
 */
@Injectable()
export class ReferralTimelineHandler {
  constructor(private readonly em: EntityManager) {}

  async execute(referralId: string, principal: AccessingPrincipal): Promise<ReferralTimeline> {
    const em = this.em.fork();
    const rows = await nativeQuery<EntryRow>(em, TIMELINE_SQL, [referralId]);
    if (rows.length > 0)
      await recordAccess(em, principal, { referralId, resource: { service: 'audit', kind: 'audit-timeline', action: 'read' } });
    return { referralId, items: rows.map(toAuditEventView) };
  }
}
