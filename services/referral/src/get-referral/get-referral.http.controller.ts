import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { etagOf } from '../decisions/decide.handler';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '@sonet/auth';
import { referralIdSchema } from '@sonet/contracts';
import { noQueryParametersSchema, parseOrProblem } from '@sonet/service-kit';
import { GetReferralHandler, type ReferralView } from './get-referral.handler';

@ApiTags('referrals')
@ApiBearerAuth()
@Roles('gp', 'clinician', 'patient', 'ops')
@Controller('v1/referrals')
export class GetReferralController {
  constructor(private readonly handler: GetReferralHandler) {}

  @Get(':id')
  @ApiOperation({ summary: 'A referral: its state, responsible team and timeline' })
  @ApiOkResponse({ description: 'The referral.' })
  @ApiNotFoundResponse({ description: 'problem+json: no such referral, or not one the caller may see.' })
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
