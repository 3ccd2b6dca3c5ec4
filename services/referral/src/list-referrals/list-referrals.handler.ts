import { Injectable } from '@nestjs/common';
import { EntityManager, type FilterQuery } from '@mikro-orm/postgresql';
import { listScope } from '../domain/access';
import type { Principal } from '@sonet/auth';
import { recordAccess } from '@sonet/messaging';
import { Referral } from '../domain/entities';
import { encodeCursor, type ListReferralsQuery } from './list-referrals.query';

export interface ReferralSummary {
  id: string;
  state: string;
  urgency: string;
  specialty: string;
  patientName: string;
  receivingTeam: { name: string; siteName: string | null } | null;
  due: { step: string; at: string; overdue: boolean } | null;
  revision: number;
  createdAt: string;
}

/**
 * Worklists, newest first, keyset-paginated. What a caller may list is the referral access policy's list scope
 * (domain/access.ts): a GP its practice's referrals; a clinician the referrals sent to its organisation
 * (view=receiving, the triage queue) or from it (view=original); a patient their own; operations any.
 */
@Injectable()
export class ListReferralsHandler {
  constructor(private readonly em: EntityManager) {}

  async execute(principal: Principal, q: ListReferralsQuery, now = new Date()): Promise<{ items: ReferralSummary[]; next: string | null }> {
    const where: FilterQuery<Referral>[] = [listScope(principal, q.view)];
    if (q.state) where.push({ state: { $in: q.state } });
    if (q.urgency) where.push({ urgency: q.urgency });
    if (q.specialty) where.push({ specialty: q.specialty });
    if (q.overdue !== undefined) where.push(q.overdue ? { dueAt: { $lt: now } } : { $or: [{ dueAt: null }, { dueAt: { $gte: now } }] });
    if (q.cursor) {
      const at = new Date(q.cursor.createdAt);
      where.push({ $or: [{ createdAt: { $lt: at } }, { createdAt: at, id: { $lt: q.cursor.id } }] });
    }
    const em = this.em.fork();
    const rows = await em.find(
      Referral,
      { $and: where },
      {
        populate: ['patient'],
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        limit: q.limit + 1,
      },
    );
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    // A worklist shows patients' names: each listed referral's access is recorded.
    await recordAccess(em, principal, {
      referralId: page.map((r) => r.id),
      resource: { service: 'referral', kind: 'referral-worklist', action: 'search' },
    });
    return {
      items: page.map((r) => ({
        id: r.id,
        state: r.state,
        urgency: r.urgency,
        specialty: r.specialty,
        patientName: r.patient.name,
        receivingTeam: r.targetTeamName ? { name: r.targetTeamName, siteName: r.targetSiteName ?? null } : null,
        due: r.dueAt && r.dueStep ? { step: r.dueStep, at: r.dueAt.toISOString(), overdue: r.dueAt < now } : null,
        revision: r.revision,
        createdAt: r.createdAt.toISOString(),
      })),
      next: rows.length > q.limit && last ? encodeCursor({ createdAt: last.createdAt.toISOString(), id: last.id }) : null,
    };
  }
}
