import { Roles } from '@sonet/auth';
import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiAnswer, ApiProblems, parseOrProblem } from '@sonet/service-kit';
import { verifyReportSchema } from '../openapi/answers';
import { seqNumber } from '../http/query-params';
import { VerifyLogHandler } from './verify-log.handler';
import type { DatabaseVerifyReport } from './verify-log';

const querySchema = z.object({ from: seqNumber('must be a sequence number').optional() }).strict();

@ApiTags('audit')
@ApiBearerAuth()
@Roles('auditor')
@Controller('v1/audit/verify')
export class VerifyLogController {
  constructor(@Inject(VerifyLogHandler) private readonly handler: VerifyLogHandler) {}

  @Get()
  @ApiOperation({
    summary: 'Recompute the hash chain and check it against the signed checkpoints (in the database and the checkpoint log)',
  })
  @ApiQuery({
    name: 'from',
    required: false,
    description: 'Verify from this sequence number on, starting at the last signed checkpoint before it.',
  })
  @ApiAnswer(200, verifyReportSchema, 'The verification report: ok, or the first break and up to 100 more.')
  @ApiProblems([400, 'from is not a sequence number.'], 401, 403)
  verify(@Query() query: unknown): Promise<DatabaseVerifyReport> {
    const { from } = parseOrProblem(querySchema, query, 'query');
    return this.handler.execute(from === undefined ? undefined : BigInt(from));
  }
}
