import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { parseOrProblem } from '@sonet/service-kit';
import { TransferRequest } from '../domain/entities';

const querySchema = z.object({ referralId: z.uuid() }).strict();

@ApiTags('transfers')
@Controller('v1/transfers')
export class GetTransfersController {
  constructor(private readonly em: EntityManager) {}

  @Get()
  @ApiOperation({ summary: 'Transfers of a referral (operations view)' })
  @ApiQuery({ name: 'referralId', required: true })
  @ApiOkResponse({ description: 'The referral\'s transfer requests, newest first.' })
  async list(@Query() query: unknown) {
    const { referralId } = parseOrProblem(querySchema, query, 'query');
    const rows = await this.em.fork().find(TransferRequest, { referralId }, { orderBy: { receivedAt: 'desc' } });
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
