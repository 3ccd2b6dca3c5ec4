import { Roles } from '@sonet/auth';
import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags, ApiBearerAuth } from '@nestjs/swagger';
import { MAX_PAGE_SIZE, parseEventsQuery, QueryEventsHandler, type EventsPage } from './query-events.handler';

@ApiTags('audit')
@ApiBearerAuth()
@Roles('auditor')
@Controller('v1/audit/events')
export class QueryEventsController {
  constructor(private readonly handler: QueryEventsHandler) {}

  @Get()
  @ApiOperation({ summary: 'Audit entries by referral, event type and time, in recording order (keyset pages)' })
  @ApiQuery({ name: 'referralId', required: false, description: 'The referral (ce_subject).' })
  @ApiQuery({ name: 'type', required: false, description: 'A ce_type, e.g. referral.requested.v1.' })
  @ApiQuery({ name: 'from', required: false, description: 'Event time, inclusive (ISO-8601 with zone).' })
  @ApiQuery({ name: 'to', required: false, description: 'Event time, exclusive (ISO-8601 with zone).' })
  @ApiQuery({ name: 'limit', required: false, description: `Page size, 1 to ${MAX_PAGE_SIZE} (default 100).` })
  @ApiQuery({ name: 'after', required: false, description: 'The `next` value of the previous page.' })
  @ApiOkResponse({ description: 'A page of entries and the cursor of the next page (null on the last).' })
  @ApiBadRequestResponse({ description: 'problem+json: invalid filters, or none of referralId, type, from.' })
  list(@Query() query: unknown): Promise<EventsPage> {
    return this.handler.execute(parseEventsQuery(query));
  }
}
