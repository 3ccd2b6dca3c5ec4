import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '@sonet/auth';
import { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { ApiAnswer, ApiProblems, conflictProblem, notFoundProblem, parseOrProblem } from '@sonet/service-kit';
import { retriedSchema } from '../openapi/answers';
import { TransferRequest } from '../domain/entities';
import { TransferStarter } from '../infrastructure/transfer-starter';

const idSchema = z.object({ id: z.uuid() }).strict();

/** Operations retry a failed transfer once the cause is fixed: it resumes at the first item not confirmed at the target. */
@ApiTags('transfers')
@ApiBearerAuth()
@Roles('ops')
@Controller('v1/transfers')
export class RetryTransferController {
  constructor(
    private readonly em: EntityManager,
    private readonly starter: TransferStarter,
  ) {}

  @Post(':id/retry')
  @HttpCode(202)
  @ApiOperation({ summary: 'Retry a failed transfer (operations)' })
  @ApiAnswer(202, retriedSchema, 'The transfer is sending again.')
  @ApiProblems(
    [400, 'The id is not a UUID.'],
    401,
    403,
    [404, 'No such transfer.'],
    [409, 'Only a failed transfer can be retried (currentState); or the same Idempotency-Key is still running.'],
    422,
  )
  async retry(@Param() params: unknown, @CurrentPrincipal() _principal: Principal) {
    const { id } = parseOrProblem(idSchema, params, 'path');
    const status = await this.em.fork().transactional(async (em) => {
      const t = await em.findOne(TransferRequest, { id });
      if (!t) throw notFoundProblem('No such transfer.');
      if (t.status !== 'failed') throw conflictProblem('Only a failed transfer can be retried.', { currentState: t.status });
      t.retries += 1;
      // Back to where it failed: sending what is left of its manifest, or finding the records if it never got that far.
      t.status = t.discoveredAt ? 'sending' : 'ready';
      t.reason = null;
      t.finishedAt = null;
      await em.flush();
      // Started inside the transaction: if the start fails nothing changed; the workflow's first step waits for the commit.
      await this.starter.restart(id);
      return t.status;
    });
    return { transferId: id, status };
  }
}
