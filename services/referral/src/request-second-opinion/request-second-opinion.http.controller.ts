import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBadRequestResponse, ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '@sonet/auth';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { parseOrProblem } from '@sonet/service-kit';
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
    description: 'Retry safely: the same key (per caller, 24 h) answers the first answer; a different body with it is 422. Every POST takes it.',
  })
  @ApiBody({ schema: z.toJSONSchema(requestSecondOpinionSchema, { io: 'input', unrepresentable: 'any' }) as object })
  @ApiAcceptedResponse({ description: 'The request is recorded and its process started.' })
  @ApiBadRequestResponse({ description: 'problem+json naming each invalid field (e.g. an NHS number failing its check digit).' })
  async create(
    @Body() body: unknown,
    @CurrentPrincipal() gp: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ id: string; state: string; links: { self: string } }> {
    const cmd = { ...parseOrProblem(requestSecondOpinionSchema, body), referringPractice: gp.organisation };
    const { referralId } = await this.handler.execute(cmd);
    const self = `/v1/referrals/${referralId}`;
    void reply.header('location', self);
    return { id: referralId, state: 'requested', links: { self } };
  }
}
