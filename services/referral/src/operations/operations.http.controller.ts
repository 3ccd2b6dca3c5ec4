import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { CurrentPrincipal, Roles, type Principal } from '@sonet/auth';
import { ApiAnswer, ApiJsonBody, ApiProblems, ApiQueryParams, noQueryParametersSchema, parseOrProblem } from '@sonet/service-kit';
import { bulkReplaySchema, deadLetterIdSchema, deadLettersQuerySchema, DeadLettersHandler } from './dead-letters.handler';
import { StuckHandler } from './stuck.handler';

const links = z.object({ temporal: z.string(), trace: z.string().nullable() });
const deadLetter = z.object({
  id: z.string(),
  topic: z.string(),
  originalTopic: z.string(),
  consumerGroup: z.string(),
  eventId: z.string().nullable(),
  eventType: z.string().nullable(),
  key: z.string().nullable(),
  reason: z.string(),
  error: z.string(),
  attempts: z.int(),
  deadLettered: z.int(),
  firstFailureAt: z.string().nullable(),
  lastFailureAt: z.string().nullable(),
  sizeBytes: z.int(),
  originalHeaders: z.record(z.string(), z.string()),
});
const stuck = z.object({
  referrals: z.array(
    z.object({
      referralId: z.uuid(),
      state: z.string(),
      urgency: z.string(),
      reason: z.enum(['overdue-step', 'transfer-failed']),
      step: z.string().nullable(),
      since: z.string().nullable(),
      links,
    }),
  ),
  workflows: z.array(
    z.object({
      workflowId: z.string(),
      workflowType: z.string(),
      activityType: z.string(),
      local: z.boolean(),
      attempt: z.int(),
      lastFailureType: z.string().nullable(),
      lastFailedAt: z.string().nullable(),
      links,
    }),
  ),
  notifications: z.array(
    z.object({
      notificationId: z.uuid(),
      referralId: z.uuid(),
      recipientRole: z.string(),
      channel: z.string(),
      template: z.string(),
      reason: z.string(),
      attempts: z.int(),
      failedAt: z.string(),
      links,
    }),
  ),
});

/** Operations (role ops): dead letters of every topic and what is stuck (ADR 0015, runbooks in docs/runbooks/). */
@ApiTags('operations')
@ApiBearerAuth()
@Roles('ops')
@Controller('v1/ops')
export class OperationsController {
  constructor(
    private readonly deadLetters: DeadLettersHandler,
    private readonly stuck: StuckHandler,
  ) {}

  @Get('dead-letters')
  @ApiOperation({ summary: "A topic's dead letters: why, how often, when; ids, sizes and original headers, never the body" })
  @ApiQueryParams(deadLettersQuerySchema, { topic: 'the topic whose dead letters (<topic>.dlq) to list' })
  @ApiAnswer(200, z.object({ topic: z.string(), items: z.array(deadLetter) }), 'The dead letters, grouped per event and consumer group.')
  @ApiProblems([400, 'No topic, or not one of the network.'], 401, 403)
  list(@Query() query: unknown, @CurrentPrincipal() principal: Principal) {
    return this.deadLetters.list(parseOrProblem(deadLettersQuerySchema, query, 'query').topic, principal);
  }

  @Post('dead-letters/replay')
  @HttpCode(202)
  @ApiOperation({ summary: 'Replay every dead letter of a topic that failed for a reason (after the fix)' })
  @ApiJsonBody(bulkReplaySchema)
  @ApiAnswer(202, z.object({ replayed: z.array(deadLetter) }), 'Sent again to the topic; each consumer processes an event once.')
  @ApiProblems(400, 401, 403, 415)
  replayAll(@Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    const { topic, reason } = parseOrProblem(bulkReplaySchema, body);
    return this.deadLetters.replayAll(topic, reason, principal);
  }

  @Post('dead-letters/:id/replay')
  @HttpCode(202)
  @ApiOperation({ summary: 'Replay one dead letter (after the fix); replaying it again changes nothing' })
  @ApiAnswer(202, deadLetter, 'Sent again to the topic.')
  @ApiProblems([400, 'Not a dead-letter id.'], 401, 403, [404, 'No dead letter lies at that id.'])
  replay(@Param('id') id: string, @Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    parseOrProblem(z.undefined().or(noQueryParametersSchema), body);
    return this.deadLetters.replay(parseOrProblem(deadLetterIdSchema, id, 'dead-letter id'), principal);
  }

  @Get('stuck')
  @ApiOperation({
    summary:
      'Overdue steps, failed transfers, workflows whose activity keeps failing, recipients who could not be told; with Temporal and trace links',
  })
  @ApiAnswer(200, stuck, 'What is stuck, and where to look.')
  @ApiProblems([400, 'A query parameter is given (it takes none).'], 401, 403)
  stuckNow(@Query() query: unknown, @CurrentPrincipal() principal: Principal) {
    parseOrProblem(noQueryParametersSchema, query, 'query');
    return this.stuck.execute(principal);
  }
}
