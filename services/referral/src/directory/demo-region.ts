import type { OrganisationKind } from './entities';

/**
 * A fictional demo region for local runs and tests: four trusts across West and North Yorkshire, their sites, six GP
 * practices and the clinical teams a second opinion can go to. Names, postcodes' inward parts and emails are made up
 * (emails under .nhs.invalid, which can never be delivered); coordinates are plausible for the towns named.
 */
export interface SeedOrganisation {
  ods: string;
  name: string;
  kind: OrganisationKind;
  parentOds: string | null;
  postcode: string;
  lat: number;
  lon: number;
  contactEmail: string | null;
}

export interface SeedTeam {
  id: string;
  siteOds: string;
  name: string;
  specialty: string;
  contactEmail: string;
  currentWaitWeeks: number;
  acceptsSecondOpinions: boolean;
}

const trust = (ods: string, name: string, postcode: string, lat: number, lon: number, domain: string): SeedOrganisation => ({
  ods,
  name,
  kind: 'trust',
  parentOds: null,
  postcode,
  lat,
  lon,
  contactEmail: `enquiries@${domain}`,
});
const site = (ods: string, name: string, postcode: string, lat: number, lon: number): SeedOrganisation => ({
  ods,
  name,
  kind: 'site',
  parentOds: ods.slice(0, 3),
  postcode,
  lat,
  lon,
  contactEmail: null,
});
const practice = (ods: string, name: string, postcode: string, lat: number, lon: number): SeedOrganisation => ({
  ods,
  name,
  kind: 'gp-practice',
  parentOds: null,
  postcode,
  lat,
  lon,
  contactEmail: `${ods.toLowerCase()}.referrals@gp.nhs.invalid`,
});

export const DEMO_TRUSTS: SeedOrganisation[] = [
  trust('RJ1', 'St Elsewhere Hospitals NHS Foundation Trust', 'LS1 3EX', 53.8017, -1.552, 'st-elsewhere.nhs.invalid'),
  trust('RTH', 'Calder and Pennine Hospitals NHS Trust', 'HX3 0PW', 53.7058, -1.854, 'calder-pennine.nhs.invalid'),
  trust('RXF', 'Five Towns Hospitals NHS Trust', 'WF1 4DG', 53.6918, -1.515, 'five-towns.nhs.invalid'),
  trust('R0A', 'Ridings University Hospitals NHS Foundation Trust', 'YO31 8HE', 53.969, -1.083, 'ridings.nhs.invalid'),
];

export const DEMO_SITES: SeedOrganisation[] = [
  site('RJ122', 'St Elsewhere Hospital', 'LS1 3EX', 53.8017, -1.552),
  site('RJ101', 'Airedale Valley General Hospital', 'BD16 1TZ', 53.848, -1.838),
  site('RJ131', 'Wharfe Meadows Hospital', 'LS29 8QR', 53.9253, -1.8227),
  site('RTH01', 'Pennine Royal Infirmary', 'HX3 0PW', 53.7058, -1.854),
  site('RTH02', 'Huddersfield Mill Lane Hospital', 'HD3 3EA', 53.6522, -1.8122),
  site('RXF05', 'Priory Fields Hospital', 'WF1 4DG', 53.6918, -1.515),
  site('RXF02', 'Pontefract Castle Hospital', 'WF8 1PL', 53.6942, -1.305),
  site('RXF07', 'Dewsbury and Batley Hospital', 'WF13 4HS', 53.696, -1.653),
  site('R0A01', 'Minster General Hospital', 'YO31 8HE', 53.969, -1.083),
  site('R0A03', 'Harrogate Spa Hospital', 'HG2 7SX', 53.993, -1.516),
  site('R0A05', 'Selby Ouse Hospital', 'YO8 9BX', 53.78, -1.065),
];

export const DEMO_PRACTICES: SeedOrganisation[] = [
  practice('A81001', 'Meanwood Lane Surgery', 'LS6 4JN', 53.826, -1.576),
  practice('A81002', 'Horsforth Village Surgery', 'LS18 5RA', 53.841, -1.64),
  practice('B82005', 'Ossett Green Surgery', 'WF5 8BB', 53.68, -1.58),
  practice('B82010', 'Knaresborough Road Surgery', 'HG2 7LD', 54.0, -1.505),
  practice('C83001', 'Elland Bridge Medical Practice', 'HX5 0EA', 53.685, -1.838),
  practice('C83019', 'Heworth Green Surgery', 'YO31 7TQ', 53.967, -1.063),
];

const TEAM_NAMES = {
  cardiology: ['CARD', 'Cardiology'],
  oncology: ['ONC', 'Oncology'],
  rheumatology: ['RHEUM', 'Rheumatology'],
  neurology: ['NEURO', 'Neurology'],
  orthopaedics: ['ORTHO', 'Trauma and Orthopaedics'],
  dermatology: ['DERM', 'Dermatology'],
  respiratory: ['RESP', 'Respiratory Medicine'],
} as const;
export type DemoSpecialty = keyof typeof TEAM_NAMES;

const TRUST_DOMAINS: Record<string, string> = Object.fromEntries(
  DEMO_TRUSTS.map((t) => [t.ods, (t.contactEmail ?? '').split('@')[1] ?? '']),
);

const team = (siteOds: string, specialty: DemoSpecialty, currentWaitWeeks: number, acceptsSecondOpinions = true): SeedTeam => {
  const [suffix, name] = TEAM_NAMES[specialty];
  return {
    id: `${siteOds}-${suffix}`,
    siteOds,
    name,
    specialty,
    contactEmail: `${specialty}.${siteOds.toLowerCase()}@${TRUST_DOMAINS[siteOds.slice(0, 3)]}`,
    currentWaitWeeks,
    acceptsSecondOpinions,
  };
};

export const DEMO_TEAMS: SeedTeam[] = [
  team('RJ122', 'cardiology', 18),
  team('RTH01', 'cardiology', 6),
  team('RXF05', 'cardiology', 11),
  team('R0A01', 'cardiology', 9),
  team('RJ101', 'cardiology', 24),
  // Not taking second-opinion referrals at present: never offered by the search.
  team('RXF07', 'cardiology', 5, false),

  team('RJ122', 'oncology', 4),
  team('RTH01', 'oncology', 3),
  team('R0A01', 'oncology', 7),
  team('RXF02', 'oncology', 5),

  team('RXF05', 'rheumatology', 14),
  team('RJ131', 'rheumatology', 22),
  team('R0A03', 'rheumatology', 8),
  team('RTH02', 'rheumatology', 19),

  team('RJ122', 'neurology', 26),
  team('R0A01', 'neurology', 12),
  team('RTH02', 'neurology', 16),

  team('RXF02', 'orthopaedics', 30),
  team('RJ101', 'orthopaedics', 20),
  team('R0A03', 'orthopaedics', 15),
  team('RTH01', 'orthopaedics', 28),
  team('R0A05', 'orthopaedics', 10),

  team('RXF07', 'dermatology', 13),
  team('RJ131', 'dermatology', 9),
  team('R0A05', 'dermatology', 17),
  team('RTH02', 'dermatology', 25),

  team('RJ122', 'respiratory', 10),
  team('RXF05', 'respiratory', 6),
  team('R0A01', 'respiratory', 2),
  team('RJ101', 'respiratory', 8),
  team('RTH01', 'respiratory', 12),
];

/** Every organisation, parents before children (a site references its trust). */
export const DEMO_ORGANISATIONS: SeedOrganisation[] = [...DEMO_TRUSTS, ...DEMO_SITES, ...DEMO_PRACTICES];
