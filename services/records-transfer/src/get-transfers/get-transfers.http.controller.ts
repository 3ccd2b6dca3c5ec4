import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, organisationCovers, Roles, type Principal } from '@sonet/auth';
import { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { parseOrProblem } from '@sonet/service-kit';
import { recordAccess } from '@sonet/messaging';
import { TransferRequest } from '../domain/entities';

const querySchema = z.object({ referralId: z.uuid() }).strict();

@ApiTags('transfers')
@ApiBearerAuth()
@Roles('ops', 'clinician')
@Controller('v1/transfers')
export class GetTransfersController {
  constructor(private readonly em: EntityManager) {}

  @Get()
  @ApiOperation({ summary: 'Transfers of a referral (operations view)' })
  @ApiQuery({ name: 'referralId', required: true })
  @ApiOkResponse({ description: 'The referral\'s transfer requests, newest first (a clinician sees those from or to their organisation).' })
  async list(@Query() query: unknown, @CurrentPrincipal() principal: Principal) {
    const { referralId } = parseOrProblem(querySchema, query, 'query');
    const em = this.em.fork();
    const all = await em.find(TransferRequest, { referralId }, { orderBy: { receivedAt: 'desc' } });
    const rows =
      principal.role === 'ops'
        ? all
        : all.filter(
            (t) =>
              organisationCovers(principal.organisation, t.sourceOrganisation) ||
              (t.targetOrganisation != null && organisationCovers(principal.organisation, t.targetOrganisation)),
          );
    // The manifest discloses what is sent about the patient: who saw it is recorded before it leaves.
    if (rows.length > 0) await recordAccess(em, principal, { referralId, resource: { service: 'records-transfer', kind: 'transfer-manifest', action: 'read' } });
    return {
      items: rows.map((t) => ({
        transferId: t.id,
        referralId: t.referralId,
        sourceOrganisation: t.sourceOrganisation,
        targetOrganisation: t.targetOrganisation,
        documentKinds: t.documentKinds,
        lawfulBasis: t.lawfulBasis,
        status: t.status,
        requestedAt: t.requestedAt.toISOString(),
        receivedAt: t.receivedAt.toISOString(),
      })),
    };
  }
}
