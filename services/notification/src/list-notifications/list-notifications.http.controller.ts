import { CurrentPrincipal, Roles, type Principal } from '@sonet/auth';
import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags, ApiBearerAuth } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiAnswer, ApiProblems, ApiQueryParams, parseOrProblem } from '@sonet/service-kit';
import { notificationListSchema } from '../openapi/answers';
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
  @ApiQueryParams(querySchema, { referralId: 'referral id (UUID)' })
  @ApiAnswer(200, notificationListSchema, "The referral's notifications, oldest first.")
  @ApiProblems([400, 'An invalid or missing query parameter, named.'], 401, 403)
  async list(@Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<{ items: NotificationView[] }> {
    const { referralId } = parseOrProblem(querySchema, query, 'query');
    return { items: await this.handler.execute(referralId, principal) };
  }
}
