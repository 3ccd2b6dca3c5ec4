import type { EntityManager } from '@mikro-orm/postgresql';
import { organisationCovers, type Principal } from '@sonet/auth';
import { notFoundProblem } from '@sonet/service-kit';
import { Referral } from './entities';

/** What decides who may see a referral (everything else answers 404, so existence is not disclosed). */
export interface ReferralAccessFacts {
  readonly referringPractice: string;
  readonly originalTeamOds: string;
  /** The team the GP referred to, once chosen. */
  readonly targetTeamOds?: string | null;
  readonly patientNhsNumber: string;
}

/**
 * A GP sees its practice's referrals; a clinician those to or from its organisation; a patient their own;
 * operations staff every referral (they run the flows). Auditors read the audit log, not the referral service.
 */
export function maySeeReferral(principal: Principal, r: ReferralAccessFacts): boolean {
  switch (principal.role) {
    case 'gp':
      return principal.organisation === r.referringPractice;
    case 'clinician':
      return (
        organisationCovers(principal.organisation, r.originalTeamOds) ||
        (!!r.targetTeamOds && organisationCovers(principal.organisation, r.targetTeamOds))
      );
    case 'patient':
      return principal.nhsNumber === r.patientNhsNumber;
    case 'ops':
      return true;
    default:
      return false;
  }
}

/**
 * The referral with its patient, if the caller may see it; otherwise a 404 problem. Not found and not yours
 * answer the same, so existence is not disclosed.
 */
export async function findVisibleReferral(em: EntityManager, id: string, principal: Principal): Promise<Referral> {
  const referral = await em.findOne(Referral, { id }, { populate: ['patient'] });
  if (
    !referral ||
    !maySeeReferral(principal, {
      referringPractice: referral.referringPractice,
      originalTeamOds: referral.originalTeamOds,
      targetTeamOds: referral.targetTeamOds ?? null,
      patientNhsNumber: referral.patient.nhsNumber,
    })
  ) {
    throw notFoundProblem(`No referral ${id}.`);
  }
  return referral;
}
