import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '@sonet/auth';
import { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { ApiAnswer, ApiProblems, ApiQueryParams, notFoundProblem, parseOrProblem, validationProblem } from '@sonet/service-kit';
import { transferListSchema, transferSchema } from '../openapi/answers';
import { recordAccess } from '@sonet/messaging';
import { TRANSFER_STATUSES, TransferGap, TransferItem, TransferRequest } from '../domain/entities';
import { maySeeTransfer } from '../domain/access';
import { gapView, itemView, transferSummary } from './transfer-view';

const listQuerySchema = z
  .object({
    referralId: z.uuid().optional(),
    status: z.enum(TRANSFER_STATUSES).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();
const idSchema = z.object({ id: z.uuid() }).strict();

@ApiTags('transfers')
@ApiBearerAuth()
@Roles('ops', 'auditor', 'clinician', 'gp')
@Controller('v1/transfers')
export class GetTransfersController {
  constructor(private readonly em: EntityManager) {}

  @Get()
  @ApiOperation({ summary: 'Transfers of a referral, or (operations, auditors) transfers in a status, e.g. failed' })
  @ApiQueryParams(listQuerySchema, { referralId: 'required unless the caller is operations or an auditor' })
  @ApiAnswer(200, transferListSchema, 'Transfers the caller may see, newest first.')
  @ApiProblems([400, 'An invalid query parameter, or no referralId (only operations and auditors may list by status alone).'], 401, 403)
  async list(@Query() query: unknown, @CurrentPrincipal() principal: Principal) {
    const q = parseOrProblem(listQuerySchema, query, 'query');
    const wide = principal.role === 'ops' || principal.role === 'auditor';
    if (!q.referralId && !wide)
      throw validationProblem([{ name: 'referralId', reason: 'required (only operations and auditors may list by status alone)' }]);
    const em = this.em.fork();
    const all = await em.find(
      TransferRequest,
      { ...(q.referralId ? { referralId: q.referralId } : {}), ...(q.status ? { status: q.status } : {}) },
      { orderBy: { receivedAt: 'desc' }, limit: q.limit },
    );
    const rows = all.filter((t) => maySeeTransfer(principal, t));
    // The manifest discloses what is sent about the patient: who saw it is recorded before it leaves.
    if (rows.length > 0) {
      await recordAccess(em, principal, {
        referralId: rows.map((t) => t.referralId),
        resource: { service: 'records-transfer', kind: 'transfer-manifest', action: q.referralId ? 'read' : 'search' },
      });
    }
    return { items: rows.map(transferSummary) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One transfer: its manifest (per item: status, digest, size, timings), instances of imaging, gaps' })
  @ApiAnswer(200, transferSchema, 'The transfer and its manifest.')
  @ApiProblems([400, 'The id is not a UUID.'], 401, 403, [404, 'No such transfer, or not one the caller may see.'])
  async get(@Param() params: unknown, @CurrentPrincipal() principal: Principal) {
    const { id } = parseOrProblem(idSchema, params, 'path');
    const em = this.em.fork();
    const t = await em.findOne(TransferRequest, { id });
    if (!t || !maySeeTransfer(principal, t)) throw notFoundProblem('No such transfer.');
    const items = await em.find(TransferItem, { transferId: id }, { orderBy: { position: 'asc' } });
    const counts = await em.execute<{ item_id: string; total: string; confirmed: string; mismatches: string }[]>(
      `select i.item_id, count(*) total, count(*) filter (where i.status = 'acknowledged') confirmed, coalesce(sum(i.digest_mismatches), 0) mismatches
         from transfer_instance i join transfer_item t on t.id = i.item_id where t.transfer_id = ? group by i.item_id`,
      [id],
    );
    const byItem = new Map(
      counts.map((c) => [c.item_id, { total: Number(c.total), confirmed: Number(c.confirmed), mismatches: Number(c.mismatches) }]),
    );
    const gaps = await em.find(TransferGap, { transferId: id }, { orderBy: { reference: 'asc' } });
    await recordAccess(em, principal, {
      referralId: t.referralId,
      resource: { service: 'records-transfer', kind: 'transfer-manifest', action: 'read' },
    });
    return {
      ...transferSummary(t),
      manifestVersion: t.manifestVersion,
      items: items.map((i) => itemView(i, byItem.get(i.id))),
      gaps: gaps.map(gapView),
    };
  }
}
