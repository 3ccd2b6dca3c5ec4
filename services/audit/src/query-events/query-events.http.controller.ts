import { CurrentPrincipal, Roles, type Principal } from '@sonet/auth';
import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiAnswer, ApiJsonBody, ApiProblems } from '@sonet/service-kit';
import { eventsPageSchema } from '../openapi/answers';
import {
  eventsSearchSchema,
  MAX_PAGE_SIZE,
  parseEventsQuery,
  parseEventsSearch,
  QueryEventsHandler,
  type EventsPage,
} from './query-events.handler';

@ApiTags('audit')
@ApiBearerAuth()
@Roles('auditor')
@Controller('v1/audit/events')
export class QueryEventsController {
  constructor(private readonly handler: QueryEventsHandler) {}

  @Get()
  @ApiOperation({ summary: 'Audit entries by referral, actor, organisation, event type and time, combined, in chain order (keyset pages)' })
  @ApiQuery({ name: 'referralId', required: false, description: 'The referral (ce_subject).' })
  @ApiQuery({ name: 'actor', required: false, description: 'Who acted (the subject of an access event).' })
  @ApiQuery({ name: 'organisation', required: false, description: 'An ODS code the entry names (reader, practice, teams, organisations).' })
  @ApiQuery({ name: 'type', required: false, description: 'A ce_type, e.g. referral.requested.v1.' })
  @ApiQuery({ name: 'from', required: false, description: 'Event time, inclusive (ISO-8601 with zone).' })
  @ApiQuery({ name: 'to', required: false, description: 'Event time, exclusive (ISO-8601 with zone).' })
  @ApiQuery({ name: 'limit', required: false, description: `Page size, 1 to ${MAX_PAGE_SIZE} (default 100).` })
  @ApiQuery({ name: 'after', required: false, description: 'The `next` value of the previous page.' })
  @ApiAnswer(200, eventsPageSchema, 'A page of entries and the cursor of the next page (null on the last).')
  @ApiProblems([400, 'Invalid filters, or no narrowing filter.'], 401, 403)
  list(@Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<EventsPage> {
    return this.handler.execute(parseEventsQuery(query), principal);
  }

  @Post('search')
  @HttpCode(200)
  @ApiOperation({ summary: 'The same query with a patient filter: the NHS number travels in the body, never in a URL' })
  @ApiJsonBody(eventsSearchSchema, { description: 'The filters of GET /v1/audit/events, and nhsNumber; at least one narrowing filter.' })
  @ApiAnswer(200, eventsPageSchema, 'A page of entries of every referral the patient is named in, combined with the other filters.')
  @ApiProblems(
    [400, 'Invalid filters (values, NHS numbers included, are never echoed), or no narrowing filter.'],
    401,
    403,
    409,
    413,
    415,
    422,
  )
  search(@Body() body: unknown, @CurrentPrincipal() principal: Principal): Promise<EventsPage> {
    return this.handler.execute(parseEventsSearch(body), principal);
  }
}
