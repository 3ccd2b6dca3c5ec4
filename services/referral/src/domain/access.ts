import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { organisationCovers, type Principal, type Role } from '@sonet/auth';
import { forbiddenProblem, notFoundProblem } from '@sonet/service-kit';
import { allowedActions, type ActionType } from '../workflows/decider';
import { Referral } from './entities';

/**
 * The one access policy of a referral: who may see it (GET, and before any decision), which decisions are theirs,
 * and which referrals they may list. All three read the same relationships, so they cannot drift apart.
 */

/** What decides who may see a referral (everything else answers 404, so existence is not disclosed). */
export interface ReferralAccessFacts {
  readonly referringPractice: string;
  readonly originalTeamOds: string;
  /** The team the GP referred to, once chosen. */
  readonly targetTeamOds?: string | null;
  readonly patientNhsNumber: string;
}

/** How a principal stands to a referral. */
export type Relationship = 'referring-gp' | 'original-team' | 'receiving-team' | 'patient' | 'operations';

/** Who, in relation to the referral, may take a decision. */
export type Party = Extract<Relationship, 'referring-gp' | 'receiving-team' | 'patient'>;

/** The role a principal must have to stand in each relationship. */
export const ROLE_OF: Record<Relationship, Role> = {
  'referring-gp': 'gp',
  'original-team': 'clinician',
  'receiving-team': 'clinician',
  patient: 'patient',
  operations: 'ops',
};

/**
 * A GP is the referring GP of its practice's referrals; a clinician is the original team of those from its
 * organisation and the receiving team of those sent to it (by site or by trust; only once the GP has chosen it);
 * a patient is the patient of their own; operations staff stand in an operational relationship to every referral
 * (they run the flows). Auditors and PALS stand in none: they read the audit log, not the referral service.
 */
export function relationshipsTo(principal: Principal, r: ReferralAccessFacts): Relationship[] {
  switch (principal.role) {
    case 'gp':
      return principal.organisation === r.referringPractice ? ['referring-gp'] : [];
    case 'clinician':
      return [
        ...(organisationCovers(principal.organisation, r.originalTeamOds) ? (['original-team'] as const) : []),
        ...(r.targetTeamOds && organisationCovers(principal.organisation, r.targetTeamOds) ? (['receiving-team'] as const) : []),
      ];
    case 'patient':
      return principal.nhsNumber === r.patientNhsNumber ? ['patient'] : [];
    case 'ops':
      return ['operations'];
    default:
      return [];
  }
}

/** May this principal see this referral: does it stand in any relationship to it. */
export const maySeeReferral = (principal: Principal, r: ReferralAccessFacts): boolean => relationshipsTo(principal, r).length > 0;

/** Is this principal one of the parties a decision belongs to. */
export const isPartyTo = (principal: Principal, r: ReferralAccessFacts, parties: readonly Party[]): boolean =>
  relationshipsTo(principal, r).some((rel) => (parties as readonly Relationship[]).includes(rel));

export const accessFactsOf = (referral: Referral): ReferralAccessFacts => ({
  referringPractice: referral.referringPractice,
  originalTeamOds: referral.originalTeamOds,
  targetTeamOds: referral.targetTeamOds ?? null,
  patientNhsNumber: referral.patient.nhsNumber,
});

/** Throws 403 unless the caller is one of the parties allowed to take this decision (the referral is one it may see). */
export function assertParty(referral: Referral, principal: Principal, parties: readonly Party[]): void {
  if (!isPartyTo(principal, accessFactsOf(referral), parties)) {
    throw forbiddenProblem(
      `This decision is for ${parties.map((p) => p.replace('-', ' ')).join(' or ')} (as ${parties.map((p) => ROLE_OF[p]).join('/')}).`,
    );
  }
}

/**
 * The referral with its patient, if the caller may see it; otherwise a 404 problem. Not found and not yours
 * answer the same, so existence is not disclosed.
 */
export async function findVisibleReferral(em: EntityManager, id: string, principal: Principal): Promise<Referral> {
  const referral = await em.findOne(Referral, { id }, { populate: ['patient'] });
  if (!referral || !maySeeReferral(principal, accessFactsOf(referral))) {
    throw notFoundProblem(`No referral ${id}.`);
  }
  return referral;
}

/** Worklist views: whose list, named by the relationship it lists. */
export type WorklistView = 'practice' | 'receiving' | 'original' | 'mine' | 'all';

/** ODS match for an organisation, as organisationCovers: the same code, or a trust's sites (trust code + two characters). */
const covering = (column: 'targetTeamOds' | 'originalTeamOds', organisation: string): FilterQuery<Referral> =>
  organisation.length === 3
    ? { $or: [{ [column]: organisation }, { [column]: { $like: `${organisation}__` } }] }
    : { [column]: organisation };

/** The relationship as a query: the referrals in which the principal stands in it (the SQL side of relationshipsTo). */
function scopeOf(relationship: Relationship, p: Principal): FilterQuery<Referral> {
  switch (relationship) {
    case 'referring-gp':
      return { referringPractice: p.organisation };
    case 'original-team':
      return covering('originalTeamOds', p.organisation);
    case 'receiving-team':
      return covering('targetTeamOds', p.organisation);
    case 'patient':
      return { patient: { nhsNumber: p.nhsNumber ?? '' } };
    case 'operations':
      return {};
  }
}

/** Per role: the views it may ask for (the first is its default) and the relationship each lists. */
const WORKLISTS: Partial<Record<Role, { views: Partial<Record<WorklistView, Relationship>>; refusal: string }>> = {
  gp: { views: { practice: 'referring-gp' }, refusal: "a GP lists its practice's referrals (view=practice)" },
  clinician: {
    views: { receiving: 'receiving-team', original: 'original-team' },
    refusal: 'a clinical team lists referrals sent to it (view=receiving) or from it (view=original)',
  },
  patient: { views: { mine: 'patient' }, refusal: 'a patient lists their own referrals (view=mine)' },
};

/**
 * The scope of referrals this principal may list, for the view asked for: a GP its practice's referrals; a
 * clinician the referrals sent to its organisation (view=receiving, the triage queue, its default) or from it
 * (view=original); a patient their own; operations any (whatever the view). Another view answers 403.
 */
export function listScope(p: Principal, view: WorklistView | undefined): FilterQuery<Referral> {
  if (p.role === 'ops') return scopeOf('operations', p);
  const worklists = WORKLISTS[p.role];
  if (!worklists) throw forbiddenProblem(`${p.role} has no worklist in the referral service`);
  const relationship = view ? worklists.views[view] : Object.values(worklists.views)[0];
  if (!relationship) throw forbiddenProblem(worklists.refusal);
  return scopeOf(relationship, p);
}

/** The actions the referral's recorded state allows (the read model's view; the workflow decides). */
export const allowedActionsOf = (r: Referral): ActionType[] =>
  allowedActions({ state: r.state, originalTeamId: r.originalTeamId ?? '', originalTeamInformed: !!r.originalTeamInformedAt });
