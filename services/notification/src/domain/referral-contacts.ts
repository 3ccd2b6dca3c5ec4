import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import type { ReferralRequestedData, teamRefSchema, Urgency } from '@sonet/contracts';
import { patientContactOf, type PatientContact } from './patient-contact';
import { nativeQuery, SqlParams } from '@sonet/service-kit';
import type { ReferralContact } from './entities';
import type { ReferralProcessEvent } from './referral-process-event';

export type TeamRef = z.infer<typeof teamRefSchema>;

/** A clinical team and where it is told things (no address when the directory gave none). */
export interface TeamContact {
  readonly name: string;
  readonly ods: string;
  readonly teamId?: string | undefined;
  readonly email?: string | undefined;
}

/**
 * Who takes part in one referral and how to reach them. Most referral events carry ids only, so the
 * notification service keeps this from referral.requested.v1 and referral.referred.v1. No NHS number.
 */
export interface ReferralContacts {
  readonly referralId: string;
  readonly urgency: Urgency;
  readonly patient: PatientContact;
  readonly gp: { readonly ods: string; readonly email?: string | undefined };
  readonly originalTeam: TeamContact;
  /** The patient chose to have the original team told of the second opinion (rule 9). */
  readonly originalTeamInformed: boolean;
  /** The team currently asked for the second opinion: none before the GP refers, nor after that team rejects it. */
  readonly targetTeam?: TeamContact | undefined;
  /** The referral.referred.v1 attempt that chose the target team. */
  readonly targetAttempt?: number | undefined;
}

export const teamContactOf = (ref: TeamRef): TeamContact => ({
  name: ref.name,
  ods: ref.ods,
  ...(ref.teamId ? { teamId: ref.teamId } : {}),
  ...(ref.contactEmail ? { email: ref.contactEmail } : {}),
});

/** Same team: by directory id when both have one, otherwise by organisation and name. */
export function sameTeam(a: Pick<TeamContact, 'ods' | 'name' | 'teamId'>, b: Pick<TeamContact, 'ods' | 'name' | 'teamId'>): boolean {
  if (a.teamId && b.teamId) return a.teamId === b.teamId;
  return a.ods === b.ods && a.name === b.name;
}

/** A team named in an event, with the address known for it when the event carries none. */
export function resolveTeam(ref: TeamRef, ...known: readonly (TeamContact | undefined)[]): TeamContact {
  const team = teamContactOf(ref);
  if (team.email) return team;
  const match = known.find((k) => k !== undefined && k.email && sameTeam(k, team));
  return match ? { ...team, email: match.email } : team;
}

/** Keeps what we know about a team, taking a newer address (and directory id) from an event that names it. */
const refreshTeam = (known: TeamContact, ref: TeamRef): TeamContact =>
  sameTeam(known, teamContactOf(ref))
    ? { ...known, ...(ref.teamId ? { teamId: ref.teamId } : {}), ...(ref.contactEmail ? { email: ref.contactEmail } : {}) }
    : known;

/** The contacts a request gives; a replayed request keeps what later events added (target team, rule 9 choice). */
export function contactsFromRequested(data: ReferralRequestedData, existing?: ReferralContacts): ReferralContacts {
  return {
    referralId: data.referralId,
    urgency: existing?.urgency ?? data.urgency,
    patient: patientContactOf(data.patient),
    gp: { ods: data.referringPractice, email: data.referringPracticeEmail ?? existing?.gp.email },
    originalTeam: existing ? refreshTeam(existing.originalTeam, data.originalTeam) : teamContactOf(data.originalTeam),
    originalTeamInformed: existing?.originalTeamInformed ?? false,
    targetTeam: existing?.targetTeam,
    targetAttempt: existing?.targetAttempt,
  };
}

/**
 * What a process event changes about who to tell. Per-referral order holds (the Kafka key is the referral id),
 * but a re-applied or replayed event must not undo a later one: an older referral never replaces a newer target.
 */
export function applyToContacts(contacts: ReferralContacts, event: ReferralProcessEvent): ReferralContacts {
  switch (event.type) {
    case 'referral.referred.v1': {
      const { data } = event;
      const isNewer = contacts.targetAttempt === undefined || data.attempt > contacts.targetAttempt;
      return {
        ...contacts,
        originalTeam: refreshTeam(contacts.originalTeam, data.originalTeam),
        ...(isNewer ? { urgency: data.urgency, targetTeam: teamContactOf(data.targetTeam), targetAttempt: data.attempt } : {}),
      };
    }
    case 'referral.triage-rejected.v1': {
      // The rejecting team is out of the process: it is not told of a later withdrawal, and a new team comes next.
      const target = contacts.targetTeam;
      return target && sameTeam(target, teamContactOf(event.data.team)) ? { ...contacts, targetTeam: undefined } : contacts;
    }
    case 'referral.original-team-informed.v1':
      return { ...contacts, originalTeamInformed: true, originalTeam: refreshTeam(contacts.originalTeam, event.data.originalTeam) };
    default:
      return contacts;
  }
}

const orUndefined = <T>(v: T | null | undefined): T | undefined => v ?? undefined;

function toContacts(row: ReferralContact): ReferralContacts {
  return {
    referralId: row.referralId,
    urgency: row.urgency,
    patient: {
      name: row.patientName,
      email: orUndefined(row.patientEmail),
      mobile: orUndefined(row.patientPhone),
      address: orUndefined(row.patientAddress),
      preferences: row.patientContactPreferences?.length ? row.patientContactPreferences : [row.patientPreferredChannel],
    },
    gp: { ods: row.referringPracticeOds, email: orUndefined(row.referringPracticeEmail) },
    originalTeam: {
      name: row.originalTeamName,
      ods: row.originalTeamOds,
      teamId: orUndefined(row.originalTeamId),
      email: orUndefined(row.originalTeamEmail),
    },
    originalTeamInformed: row.originalTeamInformed,
    targetTeam:
      row.targetTeamName && row.targetTeamOds
        ? {
            name: row.targetTeamName,
            ods: row.targetTeamOds,
            teamId: orUndefined(row.targetTeamId),
            email: orUndefined(row.targetTeamEmail),
          }
        : undefined,
    targetAttempt: orUndefined(row.targetAttempt),
  };
}

/** The referral_contact row of a referral's contacts (property names; the columns are their snake_case). */
export function toRow(c: ReferralContacts, now: Date) {
  return {
    referralId: c.referralId,
    urgency: c.urgency,
    patientName: c.patient.name,
    patientEmail: c.patient.email ?? null,
    patientPhone: c.patient.mobile ?? null,
    patientPreferredChannel: c.patient.preferences[0] ?? 'email',
    patientAddress: c.patient.address ?? null,
    patientContactPreferences: [...c.patient.preferences],
    referringPracticeOds: c.gp.ods,
    referringPracticeEmail: c.gp.email ?? null,
    originalTeamName: c.originalTeam.name,
    originalTeamOds: c.originalTeam.ods,
    originalTeamId: c.originalTeam.teamId ?? null,
    originalTeamEmail: c.originalTeam.email ?? null,
    originalTeamInformed: c.originalTeamInformed,
    targetTeamName: c.targetTeam?.name ?? null,
    targetTeamOds: c.targetTeam?.ods ?? null,
    targetTeamId: c.targetTeam?.teamId ?? null,
    targetTeamEmail: c.targetTeam?.email ?? null,
    targetAttempt: c.targetAttempt ?? null,
    updatedAt: now,
  };
}

/** The columns of referral_contact, in toRow's order (their property names are the camelCase of each). */
export const CONTACT_COLUMNS = [
  'referral_id',
  'urgency',
  'patient_name',
  'patient_email',
  'patient_phone',
  'patient_preferred_channel',
  'patient_address',
  'patient_contact_preferences',
  'referring_practice_ods',
  'referring_practice_email',
  'original_team_name',
  'original_team_ods',
  'original_team_id',
  'original_team_email',
  'original_team_informed',
  'target_team_name',
  'target_team_ods',
  'target_team_id',
  'target_team_email',
  'target_attempt',
  'updated_at',
] as const;
export const camel = (column: string) => column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const JSON_COLUMNS = new Set(['patient_address', 'patient_contact_preferences']);

/** The referral's contacts, or undefined when its request has not been seen yet. Plain SQL: it runs for every event. */
export async function loadContacts(em: EntityManager, referralId: string): Promise<ReferralContacts | undefined> {
  const [row] = await nativeQuery<ReferralContact>(
    em,
    `select ${CONTACT_COLUMNS.map((c) => `${c} as "${camel(c)}"`).join(', ')} from referral_contact where referral_id = $1`,
    [referralId],
  );
  return row ? toContacts(row) : undefined;
}

/** The contacts as one row of values for referral_contact (CONTACT_COLUMNS' order). */
function contactValues(contacts: ReferralContacts, now: Date, $: SqlParams): string {
  const row = toRow(contacts, now) as Record<string, unknown>;
  return `(${CONTACT_COLUMNS.map((c) => {
    const v = row[camel(c)];
    return JSON_COLUMNS.has(c) ? $.add(v !== null && v !== undefined ? JSON.stringify(v) : null, '::jsonb') : $.add(v ?? null);
  }).join(', ')})`;
}

/** Writes the contacts in the caller's transaction: one upsert. */
export async function saveContacts(em: EntityManager, contacts: ReferralContacts, now: Date): Promise<void> {
  const $ = new SqlParams();
  await nativeQuery(
    em,
    `insert into referral_contact (${CONTACT_COLUMNS.join(', ')})
     values ${contactValues(contacts, now, $)}
     on conflict (referral_id) do update set ${CONTACT_COLUMNS.filter((c) => c !== 'referral_id')
       .map((c) => `${c} = excluded.${c}`)
       .join(', ')}`,
    $.values,
  );
}

/**
 * The contacts of referrals seen for the first time, as a statement to run with others (recordNotificationsWith): it
 * returns the referral id (`key`) of each it inserted, and nothing for a referral that has contacts already (those
 * are merged, loadContacts and saveContacts, as a replayed request keeps what later events added). One per referral.
 */
export const insertNewContacts =
  (contacts: readonly ReferralContacts[], now: Date) =>
  ($: SqlParams): string =>
    `insert into referral_contact (${CONTACT_COLUMNS.join(', ')}) values ${contacts.map((c) => contactValues(c, now, $)).join(', ')}
     on conflict (referral_id) do nothing returning referral_id::text as key`;
