import { CurrentPrincipal, Roles, type Principal } from '@sonet/auth';
import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags, ApiBearerAuth } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiAnswer, ApiProblems, ApiQueryParams, parseOrProblem } from '@sonet/service-kit';
import { notificationListSchema } from '../openapi/answers';
import { ListNotificationsHandler, type NotificationView } from './list-notifications.handler';

const querySchema = z.object({ referralId: z.uuid() }).strict();
const unreachableQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }).strict();

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

  @Get('unreachable')
  @ApiOperation({ summary: 'Patients who could not be told: every channel they agreed to failed or had no address (operations)' })
  @ApiQueryParams(unreachableQuerySchema, { limit: 'at most this many, newest first (default 100)' })
  @ApiAnswer(
    200,
    notificationListSchema,
    'Unreached patient notifications, newest first, each with its channels tried and why they failed.',
  )
  @ApiProblems([400, 'An invalid query parameter, named.'], 401, 403)
  async unreachable(@Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<{ items: NotificationView[] }> {
    const { limit } = parseOrProblem(unreachableQuerySchema, query, 'query');
    return { items: await this.handler.unreachable(principal, limit) };
  }
}
