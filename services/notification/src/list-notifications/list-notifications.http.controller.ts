import { CurrentPrincipal, Roles, type Principal } from '@sonet/auth';
import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags, ApiBearerAuth } from '@nestjs/swagger';
import { z } from 'zod';
import { parseOrProblem } from '@sonet/service-kit';
import { ListNotificationsHandler, type NotificationView } from './list-notifications.handler';

const querySchema = z.object({ referralId: z.uuid() }).strict();

@ApiTags('notifications')
@ApiBearerAuth()
@Roles('ops')
@Controller('v1/notifications')
export class ListNotificationsController {
  constructor(private readonly handler: ListNotificationsHandler) {}

  @Get()
  @ApiOperation({ summary: 'Notifications of a referral (operations view: status and timing, no addresses or content)' })
  @ApiQuery({ name: 'referralId', required: true, description: 'referral id (UUID)' })
  @ApiOkResponse({ description: 'The referral\'s notifications, oldest first.' })
  @ApiBadRequestResponse({ description: 'problem+json naming the invalid query parameter' })
  async list(@Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<{ items: NotificationView[] }> {
    const { referralId } = parseOrProblem(querySchema, query, 'query');
    return { items: await this.handler.execute(referralId, principal) };
  }
}
