import { Body, Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { nhsNumberSchema } from '@sonet/contracts';
import { Backend, idempotencyKey } from '../backend';
import { parse, submissionSchema, uuidParam } from '../forms';
import type { ReferralView } from '../referral-view';
import { requireUser, type ConsoleUser } from '../session';
import { Ui } from '../ui';

const text = (max: number) => z.string().trim().min(1, 'is required').max(max);
/** A date and time as the browser's datetime-local field sends it (UK local time). */
const localDateTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/, 'is not a date and time');

/** UK local time (what the team types) to the UTC instant the referral API takes, across GMT and BST. */
export function ukLocalToUtc(local: string): string {
  const asUtc = new Date(`${local}:00Z`);
  const londonWall = new Date(`${asUtc.toLocaleString('sv-SE', { timeZone: 'Europe/London' }).replace(' ', 'T')}Z`);
  return new Date(asUtc.getTime() - (londonWall.getTime() - asUtc.getTime())).toISOString();
}

/**
 * The decisions a worklist offers, by role: the referral's `allowedActions` decide which show, the role decides
 * whose they are. Each maps a form onto the referral API's endpoint and body.
 */
const DECISIONS = {
  refer: {
    role: 'gp',
    label: 'Refer to this team',
    path: 'gp-decision',
    form: z.object({ targetTeamId: text(64) }),
    body: (f: { targetTeamId: string }) => ({ decision: 'refer', targetTeamId: f.targetTeamId }),
  },
  decline: {
    role: 'gp',
    label: 'Decline',
    path: 'gp-decision',
    form: z.object({ reason: text(2000) }),
    body: (f: { reason: string }) => ({ decision: 'decline', reason: f.reason }),
  },
  'provide-info': {
    role: 'gp',
    label: 'Send the answer',
    path: 'more-info',
    form: z.object({ answer: text(8000) }),
    body: (f: { answer: string }) => ({ answer: f.answer }),
  },
  'triage-accept': { role: 'clinician', label: 'Accept', path: 'triage', form: z.object({}), body: () => ({ decision: 'accept' }) },
  'triage-reject': {
    role: 'clinician',
    label: 'Reject',
    path: 'triage',
    form: z.object({ reason: text(2000) }),
    body: (f: { reason: string }) => ({ decision: 'reject', reason: f.reason }),
  },
  'request-info': {
    role: 'clinician',
    label: 'Ask the GP',
    path: 'triage',
    form: z.object({ question: text(4000) }),
    body: (f: { question: string }) => ({ decision: 'request-info', question: f.question }),
  },
  'book-appointment': {
    role: 'clinician',
    label: 'Book the appointment',
    path: 'appointment',
    form: z.object({ appointmentAt: localDateTime }),
    body: (f: { appointmentAt: string }) => ({ appointmentAt: ukLocalToUtc(f.appointmentAt) }),
  },
  'issue-opinion': {
    role: 'clinician',
    label: 'Give the second opinion',
    path: 'opinion',
    form: z.object({ outcome: z.enum(['concurs', 'differs', 'partially-differs']), summary: text(8000), share: z.enum(['yes', 'no']) }),
    body: (f: { outcome: string; summary: string; share: 'yes' | 'no' }) => ({
      outcome: f.outcome,
      summary: f.summary,
      shareWithOriginalTeam: f.share === 'yes',
    }),
  },
  'care-transfer-decision': {
    role: 'clinician',
    label: 'Record the care decision',
    path: 'care-transfer/decision',
    form: z.discriminatedUnion('careDecision', [
      z.object({ careDecision: z.literal('accept') }),
      z.object({ careDecision: z.literal('retain'), reason: text(2000) }),
    ]),
    body: (f: { careDecision: 'accept' } | { careDecision: 'retain'; reason: string }) =>
      f.careDecision === 'accept' ? { decision: 'accept' } : { decision: 'retain', reason: f.reason },
  },
} as const;
type Decision = keyof typeof DECISIONS;

const decisionForm = submissionSchema.extend({
  action: z.enum(Object.keys(DECISIONS) as [Decision, ...Decision[]]),
  revision: z.coerce.number().int().nonnegative(),
});

const newReferralForm = submissionSchema.extend({
  nhsNumber: nhsNumberSchema,
  name: text(200),
  email: z.email('must be an email address'),
  originalTeamId: text(64),
  specialty: text(100),
  reason: text(4000),
  urgency: z.enum(['routine', 'urgent']),
  recordsSharingConsent: z.enum(['yes', 'no']),
});

/** GP and clinician worklists: the practice's referrals, the team's triage queue, and the decisions the state allows. */
@Controller('worklist')
export class WorklistController {
  constructor(
    private readonly backend: Backend,
    private readonly ui: Ui,
  ) {}

  @Get()
  async list(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const user = requireUser(request, 'gp', 'clinician');
    const path =
      user.role === 'gp' ? '/v1/referrals?view=practice&limit=50' : '/v1/referrals?view=receiving&state=awaiting-triage&limit=50';
    const { body } = await this.backend.json<{ items: unknown[] }>(user, 'referral', path);
    return this.ui.page(request, reply, 'worklist/list.njk', {
      title: user.role === 'gp' ? "The practice's referrals" : "The team's triage queue",
      items: body.items,
    });
  }

  @Get('new')
  async newForm(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    requireUser(request, 'gp');
    return this.ui.page(request, reply, 'worklist/new.njk', { title: 'Refer a patient for a second opinion' });
  }

  @Post('new')
  async create(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown) {
    const user = requireUser(request, 'gp');
    const form = parse(newReferralForm, body);
    const { body: created } = await this.backend.json<{ id: string }>(user, 'referral', '/v1/referrals', {
      method: 'POST',
      body: {
        patient: { nhsNumber: form.nhsNumber, name: form.name, email: form.email, preferredChannel: 'email' },
        originalTeamId: form.originalTeamId,
        specialty: form.specialty,
        reason: form.reason,
        urgency: form.urgency,
        explainedByOriginalTeam: true,
        recordsSharingConsent: form.recordsSharingConsent === 'yes',
      },
      idempotencyKey: idempotencyKey(request.session.sessionId, form.submission, 'new-referral'),
    });
    return reply.redirect(`/worklist/referrals/${created.id}`, 303);
  }

  @Get('referrals/:id')
  async referral(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Param('id') id: string) {
    const user = requireUser(request, 'gp', 'clinician');
    const referralId = parse(uuidParam, id);
    const { body: referral } = await this.backend.json<ReferralView>(user, 'referral', `/v1/referrals/${referralId}`);
    const decisions = (referral.allowedActions as Decision[])
      .filter((a) => a in DECISIONS && DECISIONS[a].role === user.role)
      .map((a) => ({ name: a, label: DECISIONS[a].label }));
    const teams = decisions.some((d) => d.name === 'refer') ? await this.teams(user, referral) : [];
    return this.ui.page(request, reply, 'worklist/referral.njk', { title: 'Referral', referral, decisions, teams });
  }

  /** A decision, conditional on the revision the page showed (If-Match): a stale page gets "this referral has changed". */
  @Post('referrals/:id/decide')
  async decide(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Param('id') id: string, @Body() body: unknown) {
    const user = requireUser(request, 'gp', 'clinician');
    const referralId = parse(uuidParam, id);
    const { action, revision, submission } = parse(decisionForm, body);
    const decision = DECISIONS[action];
    const fields = parse(decision.form, body) as never;
    await this.backend.json(user, 'referral', `/v1/referrals/${referralId}/${decision.path}`, {
      method: 'POST',
      body: decision.body(fields),
      ifMatch: `"${revision}"`,
      idempotencyKey: idempotencyKey(request.session.sessionId, submission, `${action}:${referralId}`),
    });
    return reply.redirect(`/worklist/referrals/${referralId}`, 303);
  }

  private async teams(user: ConsoleUser, referral: ReferralView) {
    const q = new URLSearchParams({ specialty: referral.specialty, practice: referral.referringPractice, limit: '10' });
    if (referral.originalTeam) q.set('excludeTeamId', referral.originalTeam.teamId);
    const { body } = await this.backend.json<{
      items: { id: string; name: string; siteName?: string; site?: { name?: string }; distanceKm?: number }[];
    }>(user, 'referral', `/v1/directory/teams?${q}`);
    return body.items.map((t) => ({
      value: t.id,
      text: `${t.name}, ${t.siteName ?? t.site?.name ?? t.id}${t.distanceKm !== undefined ? ` (${t.distanceKm} km)` : ''}`,
    }));
  }
}
