import { Controller, Get, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { referralIdSchema } from '@sonet/contracts';
import { parseOrProblem } from '@sonet/service-kit';
import { GetReferralHandler, type ReferralView } from './get-referral.handler';

@ApiTags('referrals')
@Controller('v1/referrals')
export class GetReferralController {
  constructor(private readonly handler: GetReferralHandler) {}

  @Get(':id')
  @ApiOperation({ summary: 'A referral: its state, responsible team and timeline' })
  @ApiOkResponse({ description: 'The referral.' })
  @ApiNotFoundResponse({ description: 'problem+json: no such referral.' })
  get(@Param('id') id: string): Promise<ReferralView> {
    return this.handler.execute(parseOrProblem(referralIdSchema, id, 'referral id'));
  }
}
