import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '@sonet/auth';
import { ApiAnswer, ApiProblems, ApiQueryParams, parseOrProblem } from '@sonet/service-kit';
import { referralPageSchema } from '../openapi/answers';
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
    summary: "Worklists: a practice's referrals, a team's triage queue, a patient's own",
    description:
      'Filters: view (practice | receiving | original | mine | all), state (comma-separated), urgency, specialty, overdue=true, limit (≤ 100), cursor (from `next`). Newest first.',
  })
  @ApiQueryParams(listReferralsQuerySchema, { state: 'comma-separated states', cursor: 'the `next` of the previous page' })
  @ApiAnswer(200, referralPageSchema, '{ items, next } — pass `next` back as `cursor` for the following page.')
  @ApiProblems(400, 401, [403, 'The caller may not see this list (e.g. a view its role does not have).'])
  list(@Query() query: unknown, @CurrentPrincipal() principal: Principal) {
    return this.handler.execute(principal, parseOrProblem(listReferralsQuerySchema, query, 'query'));
  }
}
