import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { etagOf } from '../decisions/decide.handler';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '@sonet/auth';
import { referralIdSchema } from '@sonet/contracts';
import { ApiAnswer, ApiProblems, noQueryParametersSchema, parseOrProblem } from '@sonet/service-kit';
import { referralViewSchema } from '../openapi/answers';
import { GetReferralHandler, type ReferralView } from './get-referral.handler';

@ApiTags('referrals')
@ApiBearerAuth()
@Roles('gp', 'clinician', 'patient', 'ops')
@Controller('v1/referrals')
export class GetReferralController {
  constructor(private readonly handler: GetReferralHandler) {}

  @Get(':id')
  @ApiOperation({ summary: 'A referral: its state, responsible team and timeline' })
  @ApiAnswer(200, referralViewSchema, 'The referral.', {
    headers: { ETag: { description: 'Its revision: send it as If-Match with a decision.' } },
  })
  @ApiProblems([400, 'The id is not a UUID, or a query parameter is given (it takes none).'], 401, 403, [
    404,
    'No such referral, or not one the caller may see.',
  ])
  async get(
    @Param('id') id: string,
    @Query() query: unknown,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ReferralView> {
    parseOrProblem(noQueryParametersSchema, query, 'query');
    const view = await this.handler.execute(parseOrProblem(referralIdSchema, id, 'referral id'), principal);
    void reply.header('etag', etagOf(view.revision));
    return view;
  }
}
