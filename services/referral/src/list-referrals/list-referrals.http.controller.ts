import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '@sonet/auth';
import { parseOrProblem } from '@sonet/service-kit';
import { ListReferralsHandler } from './list-referrals.handler';
import { listReferralsQuerySchema } from './list-referrals.query';

@ApiTags('referrals')
@ApiBearerAuth()
@Roles('gp', 'clinician', 'patient', 'ops')
@Controller('v1/referrals')
export class ListReferralsController {
  constructor(private readonly handler: ListReferralsHandler) {}

  @Get()
  @ApiOperation({
    summary: 'Worklists: a practice\'s referrals, a team\'s triage queue, a patient\'s own',
    description:
      'Filters: view (practice | receiving | original | mine | all), state (comma-separated), urgency, specialty, overdue=true, limit (≤ 100), cursor (from `next`). Newest first.',
  })
  @ApiOkResponse({ description: '{ items, next } — pass `next` back as `cursor` for the following page.' })
  list(@Query() query: unknown, @CurrentPrincipal() principal: Principal) {
    return this.handler.execute(principal, parseOrProblem(listReferralsQuerySchema, query, 'query'));
  }
}
