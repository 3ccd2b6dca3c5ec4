import { z } from 'zod';
import { documents } from '@sonet/service-kit';
import type { DecisionAnswer } from '../decisions/decide.handler';
import type { TeamListItem } from '../directory/directory.http.controller';
import type { DirectoryTeam } from '../directory/directory.service';
import { REFERRAL_STATES } from '../domain/referral-state';
import { DECISION_TYPES } from '../workflows/transitions';
import type { ReferralView } from '../get-referral/get-referral.handler';
import type { ReferralSummary } from '../list-referrals/list-referrals.handler';

/**
 * The answers of the referral API as its OpenAPI document shows them. Each is checked at compile time against the
 * type its handler builds (`documents<T>()`), and at run time by the schema-driven fuzz run (infra/local/fuzz.sh).
 */

const instant = z.iso.datetime({ offset: true });
const state = z.enum(REFERRAL_STATES);
const action = z.enum(DECISION_TYPES);
const due = z.object({ step: z.string(), at: instant, overdue: z.boolean() }).nullable();

export const referralCreatedSchema = z.object({ id: z.uuid(), state: z.literal('requested'), links: z.object({ self: z.string() }) });

export const referralViewSchema = documents<ReferralView>()(
  z.object({
    id: z.uuid(),
    state,
    revision: z.int().describe('The ETag of decisions: send it back as If-Match.'),
    allowedActions: z.array(action),
    urgency: z.enum(['routine', 'urgent']),
    specialty: z.string(),
    referringPractice: z.string(),
    originalTeam: z.object({ teamId: z.string().nullable(), ods: z.string(), name: z.string() }),
    receivingTeam: z
      .object({
        teamId: z.string().nullable(),
        ods: z.string(),
        name: z.string(),
        siteName: z.string().nullable(),
        distanceKm: z.number().nullable(),
      })
      .nullable(),
    responsibleTeam: z.object({ ods: z.string() }),
    explainedByOriginalTeam: z.boolean(),
    recordsSharingConsent: z.boolean(),
    originalTeamInformed: z.boolean(),
    due,
    appointment: z.object({ at: instant, site: z.object({ ods: z.string().nullable(), name: z.string().nullable() }) }).nullable(),
    opinionOutcome: z.enum(['concurs', 'differs', 'partially-differs']).nullable(),
    createdAt: instant,
    updatedAt: instant,
    timeline: z.array(z.object({ at: instant, state, event: z.string(), summary: z.string() })),
    traceId: z
      .string()
      .regex(/^[0-9a-f]{32}$/)
      .optional()
      .describe('For ops only: the trace id of the request that created the referral (open it in the trace viewer).'),
  }),
);

const referralSummarySchema = documents<ReferralSummary>()(
  z.object({
    id: z.uuid(),
    state: z.string(),
    urgency: z.string(),
    specialty: z.string(),
    patientName: z.string(),
    receivingTeam: z.object({ name: z.string(), siteName: z.string().nullable() }).nullable(),
    due,
    revision: z.int(),
    createdAt: instant,
  }),
);

export const referralPageSchema = z.object({
  items: z.array(referralSummarySchema),
  next: z.string().nullable().describe('Pass back as `cursor` for the following page; null on the last.'),
});

export const decisionAnswerSchema = documents<DecisionAnswer>()(
  z.object({
    referralId: z.uuid(),
    state,
    revision: z.int(),
    allowedActions: z.array(action),
    responsibleTeam: z.object({ ods: z.string() }),
    dueAt: instant.optional(),
    dueStep: z.enum(['gp-decision', 'triage', 'more-info', 'booking', 'opinion']).optional(),
    timeline: z.array(z.object({ at: instant, state, event: z.string() })),
  }),
);

const site = { ods: z.string(), name: z.string(), postcode: z.string() };
const trust = z.object({ ods: z.string(), name: z.string() }).nullable();

const teamListItemSchema = documents<TeamListItem>()(
  z.object({
    id: z.string(),
    name: z.string(),
    specialty: z.string(),
    site: z.object(site),
    trust,
    distanceKm: z.number().optional(),
    waitWeeks: z.number(),
    contactEmail: z.string(),
  }),
);

export const teamListSchema = z.object({ items: z.array(teamListItemSchema) });

export const directoryTeamSchema = documents<DirectoryTeam>()(
  z.object({
    id: z.string(),
    name: z.string(),
    specialty: z.string(),
    contactEmail: z.string(),
    waitWeeks: z.number(),
    acceptsSecondOpinions: z.boolean(),
    site: z.object({ ...site, lat: z.number(), lon: z.number() }),
    trust,
  }),
);

export const marthasRuleSchema = z.object({ inScope: z.literal(false), pathway: z.string(), explanation: z.string() });
