import { Roles } from '@sonet/auth';
import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { parseOrProblem } from '@sonet/service-kit';
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
  @ApiOperation({ summary: 'Recompute the hash chain and check it against the signed checkpoints (in the database and the checkpoint log)' })
  @ApiQuery({ name: 'from', required: false, description: 'Verify from this sequence number on, starting at the last signed checkpoint before it.' })
  @ApiOkResponse({ description: '{ ok, entries, firstSeq, lastSeq, head, checkpointsChecked, firstBreak: { seq, reason, detail } | null, breaks, schema }' })
  @ApiBadRequestResponse({ description: 'problem+json: from is not a sequence number.' })
  verify(@Query() query: unknown): Promise<DatabaseVerifyReport> {
    const { from } = parseOrProblem(querySchema, query, 'query');
    return this.handler.execute(from === undefined ? undefined : BigInt(from));
  }
}
