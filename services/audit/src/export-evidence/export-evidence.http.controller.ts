import { CurrentPrincipal, Roles, type Principal } from '@sonet/auth';
import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { referralIdSchema } from '@sonet/contracts';
import { ApiProblems, openApiSchema, parseOrProblem } from '@sonet/service-kit';
import { fhirBundleSchema, ndjsonSchema } from '../openapi/answers';
import { toNdjson } from '../domain/evidence';
import { toFhirBundle } from '../domain/fhir';
import { ExportEvidenceHandler } from './export-evidence.handler';

const formatSchema = z.object({ format: z.enum(['ndjson', 'fhir']).default('ndjson') }).strict();

@ApiTags('audit')
@ApiBearerAuth()
@Roles('auditor')
@Controller('v1/audit/referrals')
export class ExportEvidenceController {
  constructor(private readonly handler: ExportEvidenceHandler) {}

  @Get(':id/export')
  @ApiOperation({
    summary: "A referral's evidence pack with its chain proof, verifiable offline (`npm run -s audit -- verify-export <file>`)",
  })
  @ApiQuery({
    name: 'format',
    required: false,
    description: 'ndjson (default) or fhir (a FHIR R4 Bundle of AuditEvents shaped after IHE BALP).',
  })
  @ApiResponse({
    status: 200,
    description: 'The evidence pack (Content-Disposition: attachment).',
    content: {
      'application/x-ndjson': { schema: openApiSchema(ndjsonSchema) },
      'application/fhir+json': { schema: openApiSchema(fhirBundleSchema) },
    },
  })
  @ApiProblems([400, 'The id is not a UUID, or an unknown format.'], 401, 403)
  async export(
    @Param('id') id: string,
    @Query() query: unknown,
    @CurrentPrincipal() principal: Principal,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const referralId = parseOrProblem(referralIdSchema, id, 'referral id');
    const { format } = parseOrProblem(formatSchema, query, 'query');
    const pack = await this.handler.execute(referralId, principal);
    const filename = `audit-${referralId}.${format === 'fhir' ? 'fhir.json' : 'ndjson'}`;
    void reply
      .header('content-disposition', `attachment; filename="${filename}"`)
      .header('content-type', format === 'fhir' ? 'application/fhir+json' : 'application/x-ndjson')
      .send(format === 'fhir' ? JSON.stringify(toFhirBundle(pack)) : toNdjson(pack));
  }
}
