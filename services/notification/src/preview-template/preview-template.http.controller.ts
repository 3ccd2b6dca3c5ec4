import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '@sonet/auth';
import { z } from 'zod';
import { ApiAnswer, ApiProblems, noQueryParametersSchema, notFoundProblem, parseOrProblem } from '@sonet/service-kit';
import { isTemplateName, previewTemplate, type TemplatePreview } from '../templates/samples';
import { TEMPLATE_NAMES } from '../templates';

const previewSchema = z.object({
  id: z.string(),
  subject: z.string(),
  text: z.string(),
  sms: z.object({ version: z.int(), text: z.string(), fragments: z.int(), encoding: z.enum(['gsm', 'ucs2']) }).nullable(),
});

/** Every message the service can send, rendered with sample data only, so each can be reviewed before it is used. */
@ApiTags('templates')
@ApiBearerAuth()
@Roles('ops')
@Controller('v1/templates')
export class PreviewTemplateController {
  @Get(':id/preview')
  @ApiOperation({ summary: 'A template rendered with sample data (never a patient’s): subject, text and the SMS version' })
  @ApiAnswer(200, previewSchema, 'The template with sample data.')
  @ApiProblems([400, 'A query parameter is given (it takes none).'], 401, 403, [404, 'No such template.'])
  preview(@Param('id') id: string, @Query() query: unknown): TemplatePreview {
    parseOrProblem(noQueryParametersSchema, query, 'query');
    if (!isTemplateName(id))
      throw notFoundProblem(`No template ${JSON.stringify(id.slice(0, 80))}; templates: ${TEMPLATE_NAMES.join(', ')}`);
    return previewTemplate(id);
  }
}
