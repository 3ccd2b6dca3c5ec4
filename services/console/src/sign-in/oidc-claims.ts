import { z } from 'zod';
import { nhsNumberSchema, odsCodeSchema } from '@sonet/contracts';
import type { ConsoleConfig, STAFF_ROLES } from '../config';
import type { ConsoleRole } from '../session';

type StaffRole = (typeof STAFF_ROLES)[number];

/** Who the provider says signed in, as the network knows them (docs/runbooks/console.md, "Claims mapped"). */
export interface MappedPrincipal {
  readonly role: ConsoleRole;
  readonly organisation: string;
  readonly subject: string;
  /** A patient's NHS number (NHS login): checked here, carried by the provider's token, not kept in the session. */
  readonly nhsNumber?: string;
}

/** Why a person who signed in at the provider cannot use the console: said on the refusal page (403). */
export class SignInRefused extends Error {}

export type ClaimProfile = ConsoleConfig['OIDC_PROFILE'];

const cis2RoleSchema = z.object({
  person_roleid: z.string(),
  org_code: z.string().optional(),
  role_code: z.string().optional(),
  role_name: z.string().optional(),
});

/**
 * Maps the ID token's and UserInfo's claims onto the network's principal.
 * - CIS2 (staff): the `nhsid_nrbac_roles` entry the user picked at login (`selected_roleid`) gives the organisation
 *   (`org_code`) and, through `roleMap`, the role (its `role_code` whole, else the code's last `:` part).
 * - NHS login (patients): role `patient`, organisation the registered practice (`gp_registration_details.gp_ods_code`),
 *   `nhs_number` required.
 * `auto` tells them apart by the claims present: `nhs_number` is NHS login, `nhsid_nrbac_roles` is CIS2.
 * Anything else is refused with the reason; never a guess.
 */
export function mapClaims(
  claims: Readonly<Record<string, unknown>>,
  profile: ClaimProfile,
  roleMap: Readonly<Record<string, StaffRole>>,
): MappedPrincipal {
  const subject = typeof claims.sub === 'string' && claims.sub.length > 0 ? claims.sub : null;
  if (!subject) throw new SignInRefused('the identity provider did not say who you are');
  const kind = profile !== 'auto' ? profile : 'nhs_number' in claims ? 'nhs-login' : 'nhsid_nrbac_roles' in claims ? 'cis2' : null;
  if (kind === 'nhs-login') return patient(subject, claims);
  if (kind === 'cis2') return staff(subject, claims, roleMap);
  throw new SignInRefused('your sign-in carries neither an NHS Care Identity role nor an NHS number');
}

function patient(subject: string, claims: Readonly<Record<string, unknown>>): MappedPrincipal {
  const nhs = nhsNumberSchema.safeParse(claims.nhs_number);
  if (!nhs.success) throw new SignInRefused('your NHS login did not give a valid NHS number');
  const registration = claims.gp_registration_details as { gp_ods_code?: unknown } | undefined;
  const practice = odsCodeSchema.safeParse(registration?.gp_ods_code);
  if (!practice.success) throw new SignInRefused('your NHS login did not say which GP practice you are registered with');
  return { role: 'patient', organisation: practice.data, subject, nhsNumber: nhs.data };
}

function staff(subject: string, claims: Readonly<Record<string, unknown>>, roleMap: Readonly<Record<string, StaffRole>>): MappedPrincipal {
  const roles = z.array(cis2RoleSchema).safeParse(claims.nhsid_nrbac_roles);
  if (!roles.success) throw new SignInRefused('your NHS Care Identity roles could not be read');
  const selected =
    typeof claims.selected_roleid === 'string' ? roles.data.find((r) => r.person_roleid === claims.selected_roleid) : undefined;
  if (!selected) throw new SignInRefused('you did not select one of your NHS Care Identity roles');
  const code = selected.role_code ?? '';
  const role = Object.hasOwn(roleMap, code) ? roleMap[code] : Object.hasOwn(roleMap, lastPart(code)) ? roleMap[lastPart(code)] : undefined;
  if (!role)
    throw new SignInRefused(`the role you selected (${selected.role_name ?? (code || 'no role code')}) has no access to this console`);
  const organisation = odsCodeSchema.safeParse(selected.org_code);
  if (!organisation.success) throw new SignInRefused('the role you selected has no valid organisation (ODS code)');
  return { role, organisation: organisation.data, subject };
}

const lastPart = (code: string): string => code.split(':').at(-1) ?? code;

/** The scopes asked for when OIDC_SCOPES is not set: those that bring the profile's claims. */
export function defaultScopes(profile: ClaimProfile): string {
  if (profile === 'cis2') return 'openid profile nationalrbacaccess';
  if (profile === 'nhs-login') return 'openid profile gp_registration_details';
  return 'openid profile nationalrbacaccess gp_registration_details';
}
