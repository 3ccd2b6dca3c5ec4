import { CurrentPrincipal, Roles, type Principal } from '@sonet/auth';
import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags, ApiBearerAuth } from '@nestjs/swagger';
import { referralIdSchema } from '@sonet/contracts';
import { ApiAnswer, ApiProblems, parseOrProblem } from '@sonet/service-kit';
import { referralTimelineSchema } from '../openapi/answers';
import { noQuery } from '../http/query-params';
import { ReferralTimelineHandler, type ReferralTimeline } from './referral-timeline.handler';

@ApiTags('audit')
@ApiBearerAuth()
@Roles('auditor')
@Controller('v1/audit/referrals')
export class ReferralTimelineController {
  constructor(private readonly handler: ReferralTimelineHandler) {}

  @Get(':id/timeline')
  @ApiOperation({ summary: "A referral's audit entries across all services, in the order they happened" })
  @ApiAnswer(
    200,
    referralTimelineSchema,
    'The entries, ordered by event time, then by chain order (none when audit has seen nothing of it).',
  )
  @ApiProblems([400, 'The id is not a UUID, or a query parameter is given (it takes none).'], 401, 403)
  timeline(@Param('id') id: string, @Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<ReferralTimeline> {
    const referralId = parseOrProblem(referralIdSchema, id, 'referral id');
    parseOrProblem(noQuery, query, 'query');
    return this.handler.execute(referralId, principal);
  }
}
