import { Body, Controller, Headers, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { referralIdSchema } from '@sonet/contracts';
import { CurrentPrincipal, Roles, type Principal } from '@sonet/auth';
import { currentTraceHeaders } from '@sonet/messaging';
import {
  ApiAnswer,
  ApiJsonBody,
  ApiProblems,
  idempotencyOperationOf,
  parseOrProblem,
  Problem,
  problemType,
  validationProblem,
} from '@sonet/service-kit';
import { decisionAnswerSchema } from '../openapi/answers';
import { DirectoryService } from '../directory/directory.service';
import { distanceKm, roundKm } from '../directory/distance';
import type { DecisionAction } from '../workflows/decider';
import { DecideHandler, etagOf, parseIfMatch, toDecisionAnswer, type DecisionAnswer, type Party } from './decide.handler';
import {
  APPOINTMENT_CLOCK_SKEW_MS,
  appointmentSchema,
  careTransferDecisionSchema,
  isBookable,
  sameSpecialty,
  emptySchema,
  gpDecisionSchema,
  moreInfoSchema,
  opinionSchema,
  triageSchema,
  withdrawSchema,
} from './decision.commands';

/** Names the two specialties (the directory's and the referral's, never free text the caller sent). */
const specialtyMismatch = (referralSpecialty: string, teamSpecialty: string) =>
  new Problem({
    type: problemType('specialty-mismatch'),
    title: 'Specialty mismatch',
    status: 422,
    detail: `The team's specialty (${teamSpecialty}) is not the referral's (${referralSpecialty}). To refer there anyway, give specialtyMismatchReason.`,
    referralSpecialty,
    teamSpecialty,
  });

/** Each decision answers the referral's new status and revision (HttpCode(200) documents a bare 200 per method: this replaces it). */
const ApiDecisionAnswer = () =>
  ApiAnswer(200, decisionAnswerSchema, 'The new status.', { headers: { ETag: { description: 'The new revision.' } } });

/**
 * The decisions of the second-opinion process. Each answers the referral's new status with its ETag; an
 * If-Match header makes the decision conditional on the revision the caller saw (412 if it moved on).
 * A decision the current state does not allow answers 409 problem+json naming the state and allowed actions.
 */
@ApiTags('decisions')
@ApiBearerAuth()
@ApiHeader({
  name: 'If-Match',
  required: false,
  description: 'The revision (ETag) the caller saw: the decision is refused with 412 if the referral has moved on.',
})
@ApiHeader({
  name: 'Idempotency-Key',
  required: false,
  description: 'Retry safely: the same key (per caller, 24 h) answers the first answer.',
})
@ApiProblems(400, 401, [403, 'The caller is not the party this decision belongs to.'], 404, 409, 412, 413, 415, 422)
@Controller('v1/referrals/:id')
export class DecisionsController {
  constructor(
    private readonly handler: DecideHandler,
    private readonly directory: DirectoryService,
  ) {}

  private async run(
    id: string,
    principal: Principal,
    ifMatch: string | undefined,
    reply: FastifyReply,
    parties: readonly Party[],
    build: (referral: Awaited<ReturnType<DecideHandler['referralFor']>>) => Promise<DecisionAction> | DecisionAction,
    /** What to record once the workflow has taken the decision (never before: a refused decision records nothing). */
    after?: (status: DecisionAnswer) => Promise<void>,
  ): Promise<DecisionAnswer> {
    const { traceparent } = currentTraceHeaders();
    const referralId = parseOrProblem(referralIdSchema, id, 'referral id');
    const expected = parseIfMatch(ifMatch);
    const referral = await this.handler.referralFor(referralId, principal);
    this.handler.assertParty(referral, principal, parties);
    const action = await build(referral);
    // With an Idempotency-Key, a retry sends the same Update id: Temporal answers it the first run's result.
    const operation = idempotencyOperationOf(reply.request);
    const status = toDecisionAnswer(await this.handler.decide(referral, principal, action, expected, traceparent, operation), referral);
    if (after) await after(status);
    void reply.header('etag', etagOf(status.revision));
    return status;
  }

  @Post('gp-decision')
  @HttpCode(200)
  @ApiDecisionAnswer()
  @Roles('gp')
  @ApiOperation({ summary: 'GP: refer to a different clinical team (rule 3), or decline with a reason (rule 1)' })
  @ApiJsonBody(gpDecisionSchema)
  @ApiProblems([
    422,
    "The team's specialty is not the referral's (referralSpecialty, teamSpecialty): give specialtyMismatchReason to refer there anyway; or an Idempotency-Key reused with another body.",
  ])
  gpDecision(
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentPrincipal() p: Principal,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const cmd = parseOrProblem(gpDecisionSchema, body);
    let mismatch: { referralSpecialty: string; teamSpecialty: string; reason: string } | undefined;
    const recordMismatch = async (status: DecisionAnswer) => {
      if (!mismatch) return;
      const summary = `The GP chose a ${mismatch.teamSpecialty} team for this ${mismatch.referralSpecialty} referral: ${mismatch.reason}`;
      await this.handler.recordOnTimeline(status.referralId, status.state, 'referral.specialty-mismatch-chosen', summary);
    };
    return this.run(
      id,
      p,
      ifMatch,
      reply,
      ['referring-gp'],
      async (referral): Promise<DecisionAction> => {
        if (cmd.decision === 'decline') return { type: 'decline', reason: cmd.reason };
        const team = await this.directory.findTeam(cmd.targetTeamId);
        if (!team) throw validationProblem([{ name: 'targetTeamId', reason: 'no such clinical team in the directory' }]);
        if (!team.acceptsSecondOpinions)
          throw validationProblem([{ name: 'targetTeamId', reason: 'this team does not take second-opinion referrals' }]);
        // A second opinion is from the same specialty, unless the GP deliberately chooses otherwise and says why.
        if (!sameSpecialty(referral.specialty, team.specialty)) {
          if (!cmd.specialtyMismatchReason) throw specialtyMismatch(referral.specialty, team.specialty);
          mismatch = { referralSpecialty: referral.specialty, teamSpecialty: team.specialty, reason: cmd.specialtyMismatchReason };
        }
        const practice = await this.directory.findOrganisation(referral.referringPractice);
        return {
          type: 'refer',
          targetTeam: {
            teamId: team.id,
            ods: team.site.ods,
            name: team.name,
            siteName: team.site.name,
            contactEmail: team.contactEmail,
            // Rule 7: how far the patient may have to travel (from their practice).
            ...(practice ? { distanceKm: roundKm(distanceKm(practice, team.site)) } : {}),
          },
        };
      },
      recordMismatch,
    );
  }

  @Post('triage')
  @HttpCode(200)
  @ApiDecisionAnswer()
  @Roles('clinician')
  @ApiOperation({ summary: 'Receiving team: accept, reject with a reason, or ask for more information (rule 6)' })
  @ApiJsonBody(triageSchema)
  triage(
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentPrincipal() p: Principal,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const cmd = parseOrProblem(triageSchema, body);
    return this.run(id, p, ifMatch, reply, ['receiving-team'], (): DecisionAction =>
      cmd.decision === 'accept'
        ? { type: 'triage-accept' }
        : cmd.decision === 'reject'
          ? { type: 'triage-reject', reason: cmd.reason }
          : { type: 'request-info', question: cmd.question },
    );
  }

  @Post('more-info')
  @HttpCode(200)
  @ApiDecisionAnswer()
  @Roles('gp')
  @ApiOperation({ summary: "GP: answer the receiving team's question; triage resumes" })
  @ApiJsonBody(moreInfoSchema)
  moreInfo(
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentPrincipal() p: Principal,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const cmd = parseOrProblem(moreInfoSchema, body);
    return this.run(id, p, ifMatch, reply, ['referring-gp'], (): DecisionAction => ({ type: 'provide-info', answer: cmd.answer }));
  }

  @Post('appointment')
  @HttpCode(200)
  @ApiDecisionAnswer()
  @Roles('clinician')
  @ApiOperation({
    summary: 'Receiving team: book (or rebook) the appointment',
    description: 'In the future: at most 5 minutes in the past (clock skew), else 400.',
  })
  @ApiJsonBody(appointmentSchema)
  appointment(
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentPrincipal() p: Principal,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const cmd = parseOrProblem(appointmentSchema, body);
    if (!isBookable(cmd.appointmentAt)) {
      throw validationProblem([
        {
          name: 'appointmentAt',
          reason: `must be in the future (at most ${APPOINTMENT_CLOCK_SKEW_MS / 60_000} minutes ago, for clock skew)`,
        },
      ]);
    }
    return this.run(id, p, ifMatch, reply, ['receiving-team'], async (referral): Promise<DecisionAction> => {
      const siteOds = cmd.siteOds ?? referral.targetTeamOds ?? '';
      const site = await this.directory.findOrganisation(siteOds);
      if (!site || site.kind !== 'site') throw validationProblem([{ name: 'siteOds', reason: 'no such hospital site in the directory' }]);
      return { type: 'book-appointment', appointmentAt: cmd.appointmentAt, site: { ods: site.ods, name: site.name } };
    });
  }

  @Post('opinion')
  @HttpCode(200)
  @ApiDecisionAnswer()
  @Roles('clinician')
  @ApiOperation({ summary: 'Receiving team: give the second opinion (concurs, differs, partially-differs) with a summary (rule 8)' })
  @ApiJsonBody(opinionSchema)
  opinion(
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentPrincipal() p: Principal,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const cmd = parseOrProblem(opinionSchema, body);
    return this.run(id, p, ifMatch, reply, ['receiving-team'], (): DecisionAction => ({
      type: 'issue-opinion',
      outcome: cmd.outcome,
      summary: cmd.summary,
      shareWithOriginalTeam: cmd.shareWithOriginalTeam,
    }));
  }

  @Post('inform-original-team')
  @HttpCode(200)
  @ApiDecisionAnswer()
  @Roles('patient', 'gp')
  @ApiOperation({ summary: 'Patient or GP: tell the original team a second opinion is under way (rule 9)' })
  @ApiJsonBody(emptySchema, { required: false })
  informOriginalTeam(
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentPrincipal() p: Principal,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    parseOrProblem(emptySchema, body ?? {});
    return this.run(id, p, ifMatch, reply, ['patient', 'referring-gp'], (): DecisionAction => ({ type: 'inform-original-team' }));
  }

  @Post('care-transfer')
  @HttpCode(200)
  @ApiDecisionAnswer()
  @Roles('patient', 'gp')
  @ApiOperation({ summary: 'Patient or GP: ask for the new team to take over care (rule 5)' })
  @ApiJsonBody(emptySchema, { required: false })
  careTransfer(
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentPrincipal() p: Principal,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    parseOrProblem(emptySchema, body ?? {});
    return this.run(id, p, ifMatch, reply, ['patient', 'referring-gp'], (): DecisionAction => ({ type: 'request-care-transfer' }));
  }

  @Post('care-transfer/decision')
  @HttpCode(200)
  @ApiDecisionAnswer()
  @Roles('clinician')
  @ApiOperation({ summary: 'Receiving team: take over care, or not (the original team stays responsible)' })
  @ApiJsonBody(careTransferDecisionSchema)
  careTransferDecision(
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentPrincipal() p: Principal,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const cmd = parseOrProblem(careTransferDecisionSchema, body);
    return this.run(id, p, ifMatch, reply, ['receiving-team'], (): DecisionAction =>
      cmd.decision === 'accept'
        ? { type: 'care-transfer-decision', accept: true }
        : { type: 'care-transfer-decision', accept: false, reason: cmd.reason },
    );
  }

  @Post('withdraw')
  @HttpCode(200)
  @ApiDecisionAnswer()
  @Roles('patient', 'gp')
  @ApiOperation({ summary: 'Patient or GP: withdraw the request, from any open state' })
  @ApiJsonBody(withdrawSchema, { required: false })
  withdraw(
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentPrincipal() p: Principal,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const cmd = parseOrProblem(withdrawSchema, body ?? {});
    return this.run(id, p, ifMatch, reply, ['patient', 'referring-gp'], (): DecisionAction => ({
      type: 'withdraw',
      ...(cmd.reason ? { reason: cmd.reason } : {}),
    }));
  }
}
