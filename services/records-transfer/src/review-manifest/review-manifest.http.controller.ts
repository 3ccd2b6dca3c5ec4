import { Body, Controller, Headers, HttpCode, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '@sonet/auth';
import { EntityManager, LockMode } from '@mikro-orm/postgresql';
import { z } from 'zod';
import {
  ApiAnswer,
  ApiJsonBody,
  ApiProblems,
  conflictProblem,
  notFoundProblem,
  parseOrProblem,
  preconditionFailedProblem,
  validationProblem,
} from '@sonet/service-kit';
import { manifestSchema } from '../openapi/answers';
import { MANIFEST_EDITABLE_STATUSES, TransferItem, TransferRequest } from '../domain/entities';
import { mayReviewManifest, maySeeTransfer } from '../domain/access';
import { TransferStarter } from '../infrastructure/transfer-starter';
import { itemView } from '../get-transfers/transfer-view';

const idSchema = z.object({ id: z.uuid() }).strict();
const bodySchema = z
  .object({
    items: z
      .array(z.object({ itemId: z.uuid(), include: z.boolean() }).strict())
      .max(1000)
      .default([])
      .describe('items to include (one the relevance rule left out) or exclude (one it chose)'),
    /** Send now rather than at the end of the review hold. */
    release: z.boolean().default(false),
  })
  .strict();

/**
 * The GP reviews the manifest before anything is sent: excludes items the rule chose, or includes items it left
 * out (found at the source, but not relevant by the rule). Only while nothing has been sent yet.
 */
@ApiTags('transfers')
@ApiBearerAuth()
@Roles('gp')
@Controller('v1/transfers')
export class ReviewManifestController {
  constructor(
    private readonly em: EntityManager,
    private readonly starter: TransferStarter,
  ) {}

  @Put(':id/manifest')
  @HttpCode(200)
  @ApiOperation({ summary: 'Change what is sent (GP of the referring practice, before sending starts); If-Match: the manifest version' })
  @ApiHeader({ name: 'If-Match', required: false, description: 'The manifest version the GP reviewed: 412 if it has changed since.' })
  @ApiJsonBody(bodySchema, { required: false })
  @ApiAnswer(200, manifestSchema, 'The manifest as it now stands.')
  @ApiProblems(
    [400, 'An invalid field, or an item that is not in this manifest.'],
    401,
    403,
    [404, 'No such transfer, or not one the caller may review.'],
    [409, 'Sending has started or the transfer has ended (currentState), or an item cannot be sent (itemStatus).'],
    [412, 'The manifest changed since it was read (manifestVersion).'],
    413,
    415,
  )
  async review(
    @Param() params: unknown,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() principal: Principal,
  ) {
    const { id } = parseOrProblem(idSchema, params, 'path');
    const change = parseOrProblem(bodySchema, body ?? {});
    const result = await this.em.fork().transactional(async (em) => {
      const t = await em.findOne(TransferRequest, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!t || !maySeeTransfer(principal, t) || !mayReviewManifest(principal, t)) throw notFoundProblem('No such transfer.');
      if (ifMatch !== undefined && ifMatch.replace(/^W\//, '').replace(/"/g, '') !== String(t.manifestVersion)) {
        throw preconditionFailedProblem('The manifest changed since you read it.', { manifestVersion: t.manifestVersion });
      }
      if (!MANIFEST_EDITABLE_STATUSES.includes(t.status)) {
        throw conflictProblem('The manifest can no longer change: sending has started or the transfer has ended.', {
          currentState: t.status,
        });
      }
      const items = await em.find(TransferItem, { transferId: id }, { orderBy: { position: 'asc' } });
      const byId = new Map(items.map((i) => [i.id, i]));
      const unknown = change.items.filter((c) => !byId.has(c.itemId));
      if (unknown.length > 0)
        throw validationProblem(unknown.map((u) => ({ name: 'items.itemId', reason: `${u.itemId} is not in this manifest` })));
      for (const c of change.items) {
        const i = byId.get(c.itemId)!;
        if (c.include && i.status === 'excluded') i.status = 'pending';
        else if (!c.include && i.status === 'pending') i.status = 'excluded';
        else if (c.include && i.status !== 'pending')
          throw conflictProblem(`Item ${i.id} cannot be sent: it is ${i.status}.`, { itemStatus: i.status });
        i.reviewedBy = `${principal.subject}@${principal.organisation}`.slice(0, 200);
      }
      if (change.items.length > 0) t.manifestVersion += 1;
      return { t, items };
    });
    if (change.release) await this.starter.release(id);
    return {
      transferId: id,
      status: result.t.status,
      manifestVersion: result.t.manifestVersion,
      items: result.items.map((i) => itemView(i)),
    };
  }
}
