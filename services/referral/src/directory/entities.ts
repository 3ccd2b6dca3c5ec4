import { defineEntity, p } from '@mikro-orm/core';

export const ORGANISATION_KINDS = ['trust', 'site', 'gp-practice'] as const;
export type OrganisationKind = (typeof ORGANISATION_KINDS)[number];

/** An organisation of the network, by ODS code: an NHS trust, one of its sites (hospitals), or a GP practice. */
export const OrganisationSchema = defineEntity({
  name: 'Organisation',
  tableName: 'organisation',
  properties: {
    ods: p.string().length(10).primary(),
    name: p.string().length(200),
    kind: p.enum(ORGANISATION_KINDS),
    /** A site's trust; null for trusts and GP practices. */
    parentOds: p.string().length(10).nullable(),
    postcode: p.string().length(10),
    /** WGS84 degrees: where travel distances are measured from and to (rule 7). double precision read as a JS number. */
    lat: p.double().runtimeType('number').$type<number>(),
    lon: p.double().runtimeType('number').$type<number>(),
    contactEmail: p.string().length(320).nullable(),
  },
});
export class Organisation extends OrganisationSchema.class {}
OrganisationSchema.setClass(Organisation);

/** A clinical team at a site, which a GP may choose for a second opinion (rules 3 and 7). */
export const ClinicalTeamSchema = defineEntity({
  name: 'ClinicalTeam',
  tableName: 'clinical_team',
  properties: {
    /** Site ODS code and a team suffix, e.g. RJ122-CARD. */
    id: p.text().primary(),
    site: () => p.manyToOne(Organisation).fieldName('site_ods'),
    name: p.string().length(200),
    /** Lower-case slug, e.g. cardiology. */
    specialty: p.string().length(100),
    contactEmail: p.string().length(320),
    currentWaitWeeks: p.integer(),
    acceptsSecondOpinions: p.boolean().default(true),
  },
});
export class ClinicalTeam extends ClinicalTeamSchema.class {}
ClinicalTeamSchema.setClass(ClinicalTeam);

export const directoryEntities = [OrganisationSchema, ClinicalTeamSchema];
