import { CurrentPrincipal, Roles, type Principal } from '@sonet/auth';
import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags, ApiBearerAuth } from '@nestjs/swagger';
import { referralIdSchema } from '@sonet/contracts';
import { parseOrProblem } from '@sonet/service-kit';
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
  @ApiOkResponse({ description: 'The entries, ordered by event time, then by chain order.' })
  @ApiBadRequestResponse({ description: 'problem+json: the id is not a UUID, or a query parameter is given (it takes none).' })
  timeline(@Param('id') id: string, @Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<ReferralTimeline> {
    const referralId = parseOrProblem(referralIdSchema, id, 'referral id');
    parseOrProblem(noQuery, query, 'query');
    return this.handler.execute(referralId, principal);
  }
}
