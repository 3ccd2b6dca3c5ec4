import { z } from 'zod';
import { actorRoleSchema, nhsNumberSchema, odsCodeSchema } from '@sonet/contracts';

/** The roles of the network (docs/domain.md#who-takes-part-roles). */
export const ROLES = actorRoleSchema.options;
export type Role = (typeof ROLES)[number];

/** Who is calling, from a verified bearer token. */
export interface Principal {
  /** The token's subject (a person or system id at the issuer). */
  readonly subject: string;
  readonly role: Role;
  /** ODS code of the caller's organisation (GP practice, trust or site); a patient's is their GP practice. */
  readonly organisation: string;
  /** Only for patients: whose records they may see. Never logged. */
  readonly nhsNumber?: string;
}

/** The claims this network reads from a token (besides iss, aud, exp, which the verifier checks). */
export const tokenClaimsSchema = z
  .object({
    sub: z.string().min(1),
    role: z.enum(ROLES),
    org: odsCodeSchema,
    nhs: nhsNumberSchema.optional(),
  })
  .refine((c) => c.role !== 'patient' || c.nhs !== undefined, {
    message: "a patient token carries the patient's NHS number",
    path: ['nhs'],
  });

export const principalFromClaims = (claims: z.output<typeof tokenClaimsSchema>): Principal => ({
  subject: claims.sub,
  role: claims.role,
  organisation: claims.org,
  ...(claims.nhs ? { nhsNumber: claims.nhs } : {}),
});

/**
 * Whether an organisation (the caller's ODS code) covers a site or team's ODS code: the same code, or a trust
 * whose site codes start with it (site RJ122 belongs to trust RJ1).
 */
export const organisationCovers = (organisation: string, siteOrTeam: string): boolean =>
  siteOrTeam === organisation || (organisation.length === 3 && siteOrTeam.length === 5 && siteOrTeam.startsWith(organisation));
