import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { AuditEntry } from '../domain/entities';
import { toAuditEventView, type AuditEventView } from '../domain/audit-event.view';

export interface ReferralTimeline {
  referralId: string;
  items: AuditEventView[];
}

/**
 * Everything the network said about one referral, in the order it happened (event time, then recording
 * order for events with the same time). Empty when audit has seen nothing about it.
 */
@Injectable()
export class ReferralTimelineHandler {
  constructor(private readonly em: EntityManager) {}

  async execute(referralId: string): Promise<ReferralTimeline> {
    const rows = await this.em.fork().find(AuditEntry, { subject: referralId }, { orderBy: [{ eventTime: 'asc' }, { seq: 'asc' }] });
    return { referralId, items: rows.map(toAuditEventView) };
  }
}
