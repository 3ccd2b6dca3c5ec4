import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, organisationCovers, Roles, type Principal } from '@sonet/auth';
import { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { parseOrProblem } from '@sonet/service-kit';
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
    const all = await this.em.fork().find(TransferRequest, { referralId }, { orderBy: { receivedAt: 'desc' } });
    const rows =
      principal.role === 'ops'
        ? all
        : all.filter(
            (t) =>
              organisationCovers(principal.organisation, t.sourceOrganisation) ||
              (t.targetOrganisation != null && organisationCovers(principal.organisation, t.targetOrganisation)),
          );
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
