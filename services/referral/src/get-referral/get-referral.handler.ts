import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import type { Principal } from '@sonet/auth';
import { notFoundProblem } from '@sonet/service-kit';
import { maySeeReferral } from '../domain/access';
import { Referral, TimelineEntry } from '../domain/entities';
import type { ReferralState } from '../domain/referral-state';

export interface ReferralView {
  id: string;
  state: ReferralState;
  urgency: 'routine' | 'urgent';
  specialty: string;
  referringPractice: string;
  originalTeam: { ods: string; name: string };
  /** Rule 5: the team responsible for the patient's care; the original team until a care transfer is agreed. */
  responsibleTeam: { ods: string };
  explainedByOriginalTeam: boolean;
  recordsSharingConsent: boolean;
  createdAt: string;
  updatedAt: string;
  timeline: { at: string; state: ReferralState; event: string; summary: string }[];
}

/** The referral's current state and its timeline, from the read model. No patient identifiers. */
@Injectable()
export class GetReferralHandler {
  constructor(private readonly em: EntityManager) {}

  async execute(id: string, principal: Principal): Promise<ReferralView> {
    const em = this.em.fork();
    const referral = await em.findOne(Referral, { id }, { populate: ['patient'] });
    // Not found and not yours look the same: existence is not disclosed.
    if (
      !referral ||
      !maySeeReferral(principal, {
        referringPractice: referral.referringPractice,
        originalTeamOds: referral.originalTeamOds,
        patientNhsNumber: referral.patient.nhsNumber,
      })
    ) {
      throw notFoundProblem(`No referral ${id}.`);
    }
    const timeline = await em.find(TimelineEntry, { referral: id }, { orderBy: { at: 'asc' } });
    return {
      id: referral.id,
      state: referral.state,
      urgency: referral.urgency,
      specialty: referral.specialty,
      referringPractice: referral.referringPractice,
      originalTeam: { ods: referral.originalTeamOds, name: referral.originalTeamName },
      responsibleTeam: { ods: referral.responsibleTeamOds },
      explainedByOriginalTeam: referral.explainedByOriginalTeam,
      recordsSharingConsent: referral.recordsSharingConsent,
      createdAt: referral.createdAt.toISOString(),
      updatedAt: referral.updatedAt.toISOString(),
      timeline: timeline.map((t) => ({ at: t.at.toISOString(), state: t.state, event: t.eventType, summary: t.summary })),
    };
  }
}
