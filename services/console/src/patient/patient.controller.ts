import { Body, Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Backend, idempotencyKey } from '../backend';
import { parse, submissionSchema, uuidParam } from '../forms';
import { PLAIN_STATE, PLAIN_STEP, type ReferralView } from '../referral-view';
import { requireUser } from '../session';
import { Ui } from '../ui';

/** What a patient may do, the service's endpoint, and the plain-English confirmation. */
export const PATIENT_ACTIONS = {
  'inform-original-team': {
    path: 'inform-original-team',
    button: 'Tell my original team',
    question: 'Tell your original team about the second opinion?',
    explain:
      'We will let the team who gave you the first opinion know that you have asked for a second opinion. Your care with them does not change.',
    done: 'Your original team has been told',
  },
  'request-care-transfer': {
    path: 'care-transfer',
    button: 'Ask for my care to move to the new team',
    question: 'Ask for the new team to take over your care?',
    explain: 'The new team will decide whether they can take over your care. Until they do, your original team stays responsible.',
    done: 'You have asked for your care to move',
  },
  withdraw: {
    path: 'withdraw',
    button: 'Withdraw my request',
    question: 'Withdraw your request for a second opinion?',
    explain:
      'Nothing more will happen with this request. Your care with your original team does not change. You can ask your GP again at any time.',
    done: 'Your request has been withdrawn',
  },
} as const;
type PatientAction = keyof typeof PATIENT_ACTIONS;

const actionForm = submissionSchema.extend({
  action: z.enum(Object.keys(PATIENT_ACTIONS) as [PatientAction, ...PatientAction[]]),
  revision: z.coerce.number().int().nonnegative(),
  confirmed: z.literal('yes').optional(),
});

/** The patient's status page: where the request is, what happens next and when, who is responsible, what they may do. */
@Controller('patient')
export class PatientController {
  constructor(
    private readonly backend: Backend,
    private readonly ui: Ui,
  ) {}

  @Get()
  async status(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const user = requireUser(request, 'patient');
    const { body } = await this.backend.json<{ items: { id: string }[] }>(user, 'referral', '/v1/referrals?view=mine&limit=20');
    const referrals = await Promise.all(
      body.items.map(async (r) => (await this.backend.json<ReferralView>(user, 'referral', `/v1/referrals/${r.id}`)).body),
    );
    return this.ui.page(request, reply, 'patient/status.njk', {
      title: 'Your request for a second opinion',
      referrals: referrals.map((r) => this.describe(r)),
    });
  }

  @Post('referrals/:id/act')
  async act(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Param('id') id: string, @Body() body: unknown) {
    const user = requireUser(request, 'patient');
    const referralId = parse(uuidParam, id);
    const form = parse(actionForm, body);
    const action = PATIENT_ACTIONS[form.action];
    if (form.confirmed !== 'yes') {
      return this.ui.page(request, reply, 'patient/confirm.njk', {
        title: action.question,
        action,
        actionName: form.action,
        referralId,
        revision: form.revision,
        formSubmission: form.submission,
      });
    }
    await this.backend.json(user, 'referral', `/v1/referrals/${referralId}/${action.path}`, {
      method: 'POST',
      body: form.action === 'withdraw' ? { reason: 'Withdrawn by the patient.' } : {},
      ifMatch: `"${form.revision}"`,
      idempotencyKey: idempotencyKey(request.session.sessionId, form.submission, `${form.action}:${referralId}`),
    });
    return this.ui.page(request, reply, 'patient/done.njk', { title: action.done, action });
  }

  private describe(r: ReferralView) {
    const plain = PLAIN_STATE[r.state] ?? { now: `Your request is ${r.state}.`, next: '' };
    return {
      id: r.id,
      revision: r.revision,
      now: plain.now,
      next: plain.next,
      due: r.due ? { what: PLAIN_STEP[r.due.step] ?? r.due.step, at: r.due.at } : null,
      responsible: r.responsibleTeam?.name ?? r.originalTeam?.name ?? r.responsibleTeam?.ods ?? 'your original team',
      responsibleOds: r.responsibleTeam?.ods ?? r.originalTeam?.ods ?? '',
      secondOpinionTeam: r.receivingTeam
        ? `${r.receivingTeam.name}${r.receivingTeam.siteName ? `, ${r.receivingTeam.siteName}` : ''}`
        : null,
      actions: r.allowedActions
        .filter((a): a is PatientAction => a in PATIENT_ACTIONS)
        .map((a) => ({ name: a, button: PATIENT_ACTIONS[a].button })),
    };
  }
}
