import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '@sonet/auth';
import type { FastifyReply } from 'fastify';
import { ApiAnswer, ApiJsonBody, ApiProblems, idempotencyOperationOf, parseOrProblem } from '@sonet/service-kit';
import { referralCreatedSchema } from '../openapi/answers';
import { requestSecondOpinionSchema } from './request-second-opinion.command';
import { RequestSecondOpinionHandler } from './request-second-opinion.handler';

@ApiTags('referrals')
@ApiBearerAuth()
@Controller('v1/referrals')
export class RequestSecondOpinionController {
  constructor(private readonly handler: RequestSecondOpinionHandler) {}

  @Post()
  @Roles('gp')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Record a request for a second opinion (GP)',
    description: 'Starts the referral process. Answers 202 with the referral id and a Location to follow it.',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Retry safely: the same key (per caller, 24 h) answers the first answer; a different body with it is 422. Every POST takes it. A retry after a 503 converges on the referral the first request recorded.',
  })
  @ApiJsonBody(requestSecondOpinionSchema)
  @ApiAnswer(202, referralCreatedSchema, 'The request is recorded and its process started.', {
    headers: { Location: { description: 'The referral.' } },
  })
  @ApiProblems(
    [400, 'An invalid field (e.g. an NHS number failing its check digit), named in invalid-params.'],
    401,
    403,
    409,
    413,
    415,
    422,
    503,
  )
  async create(
    @Body() body: unknown,
    @CurrentPrincipal() gp: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ id: string; state: string; links: { self: string } }> {
    const cmd = { ...parseOrProblem(requestSecondOpinionSchema, body), referringPractice: gp.organisation };
    // With an Idempotency-Key, the referral id derives from it: a retry converges on the referral the first try recorded.
    const { referralId } = await this.handler.execute(cmd, idempotencyOperationOf(reply.request));
    const self = `/v1/referrals/${referralId}`;
    void reply.header('location', self);
    return { id: referralId, state: 'requested', links: { self } };
  }
}
