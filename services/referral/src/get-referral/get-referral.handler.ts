import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import type { Principal } from '@sonet/auth';
import type { OpinionOutcome, Urgency } from '@sonet/contracts';
import { recordAccess } from '@sonet/messaging';
import { allowedActionsOf, findVisibleReferral } from '../domain/access';
import { Referral, TimelineEntry } from '../domain/entities';
import type { ReferralState } from '../domain/referral-state';
import type { ActionType } from '../workflows/decider';

export interface TeamView {
  teamId: string | null;
  ods: string;
  name: string;
}

export interface ReferralView {
  id: string;
  state: ReferralState;
  /** The ETag of decisions: send it back as If-Match to make a decision conditional on what you saw. */
  revision: number;
  allowedActions: ActionType[];
  urgency: Urgency;
  specialty: string;
  referringPractice: string;
  originalTeam: TeamView;
  /** The team asked for the second opinion, once the GP referred (rule 3); with its site and distance (rule 7). */
  receivingTeam: (TeamView & { siteName: string | null; distanceKm: number | null }) | null;
  /** Rule 5: the team responsible for the patient's care; the original team until a care transfer is agreed. */
  responsibleTeam: { ods: string };
  explainedByOriginalTeam: boolean;
  recordsSharingConsent: boolean;
  originalTeamInformed: boolean;
  due: { step: string; at: string; overdue: boolean } | null;
  appointment: { at: string; site: { ods: string | null; name: string | null } } | null;
  opinionOutcome: OpinionOutcome | null;
  createdAt: string;
  updatedAt: string;
  timeline: { at: string; state: ReferralState; event: string; summary: string }[];
  /** For `ops` only: the trace of the request that created the referral, to open in the trace viewer. */
  traceId?: string;
}

/** The trace id inside a W3C traceparent (`00-<trace id>-<span id>-<flags>`). */
export const traceIdOf = (traceparent: string | null | undefined): string | undefined => traceparent?.split('-')[1];

export const toReferralView = (r: Referral, timeline: TimelineEntry[], now = new Date()): ReferralView => ({
  id: r.id,
  state: r.state,
  revision: r.revision,
  allowedActions: allowedActionsOf(r),
  urgency: r.urgency,
  specialty: r.specialty,
  referringPractice: r.referringPractice,
  originalTeam: { teamId: r.originalTeamId ?? null, ods: r.originalTeamOds, name: r.originalTeamName },
  receivingTeam: r.targetTeamOds
    ? {
        teamId: r.targetTeamId ?? null,
        ods: r.targetTeamOds,
        name: r.targetTeamName ?? '',
        siteName: r.targetSiteName ?? null,
        distanceKm: r.distanceKm ?? null,
      }
    : null,
  responsibleTeam: { ods: r.responsibleTeamOds },
  explainedByOriginalTeam: r.explainedByOriginalTeam,
  recordsSharingConsent: r.recordsSharingConsent,
  originalTeamInformed: !!r.originalTeamInformedAt,
  due: r.dueAt && r.dueStep ? { step: r.dueStep, at: r.dueAt.toISOString(), overdue: r.dueAt < now } : null,
  appointment: r.appointmentAt
    ? { at: r.appointmentAt.toISOString(), site: { ods: r.appointmentSiteOds ?? null, name: r.appointmentSiteName ?? null } }
    : null,
  opinionOutcome: r.opinionOutcome ?? null,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
  timeline: timeline.map((t) => ({ at: t.at.toISOString(), state: t.state, event: t.eventType, summary: t.summary })),
});

/** The referral's current state and its timeline, from the read model. No patient identifiers. */
@Injectable()
export class GetReferralHandler {
  constructor(private readonly em: EntityManager) {}

  async execute(id: string, principal: Principal): Promise<ReferralView> {
    const em = this.em.fork();
    const referral = await findVisibleReferral(em, id, principal);
    // Who saw this patient's referral: recorded before the answer leaves (access.events.v1).
    await recordAccess(em, principal, { referralId: referral.id, resource: { service: 'referral', kind: 'referral', action: 'read' } });
    const timeline = await em.find(TimelineEntry, { referral: id }, { orderBy: { at: 'asc', id: 'asc' } });
    const view = toReferralView(referral, timeline);
    const traceId = principal.role === 'ops' ? traceIdOf(referral.traceparent) : undefined;
    return traceId ? { ...view, traceId } : view;
  }
}
