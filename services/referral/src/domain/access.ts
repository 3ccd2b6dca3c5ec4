import { organisationCovers, type Principal } from '@sonet/auth';

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
