import { Body, Controller, Headers, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { timingSafeEqual, createHash } from 'node:crypto';
import { z } from 'zod';
import { ApiAnswer, ApiJsonBody, ApiProblems, parseOrProblem, unavailableProblem, Problem, problemType, Public } from '@sonet/service-kit';
import { NOTIFICATION_CONFIG, type NotificationConfig } from '../config';
import { deliveryReceiptSchema } from './record-delivery-receipt.command';
import { RecordDeliveryReceiptHandler, type ReceiptOutcome } from './record-delivery-receipt.handler';

type AnsweredOutcome = Exclude<ReceiptOutcome, 'not-yet'>;

const receiptAnswerSchema = z.object({ outcome: z.enum(['delivered', 'fell-back', 'gave-up', 'unchanged', 'unknown']) });

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Compared in constant time (over digests, so the lengths do not leak either). */
export const tokenMatches = (header: string | undefined, expected: string | undefined): boolean =>
  Boolean(expected && header?.startsWith('Bearer ') && timingSafeEqual(digest(header.slice('Bearer '.length)), digest(expected)));

/**
 * GOV.UK Notify's delivery receipts (its "callback"). Not a user endpoint: Notify authenticates with the bearer token
 * configured in its callback settings (NOTIFY_CALLBACK_TOKEN), not with our identity provider's tokens.
 */
@ApiTags('notify')
@Public()
@Controller('v1/notify/receipts')
export class RecordDeliveryReceiptController {
  constructor(
    private readonly handler: RecordDeliveryReceiptHandler,
    @Inject(NOTIFICATION_CONFIG) private readonly config: NotificationConfig,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'A delivery receipt from GOV.UK Notify (callback bearer token)',
    description: 'Idempotent: a repeated receipt changes nothing. A receipt for a message we do not know answers 200 (counted, logged).',
  })
  @ApiJsonBody(deliveryReceiptSchema)
  @ApiAnswer(200, receiptAnswerSchema, 'Applied, or already applied, or not ours.')
  @ApiProblems([400, 'A malformed receipt, the invalid fields named.'], 401, 415, [
    503,
    'The send it reports is not recorded yet: Notify retries.',
  ])
  async receive(@Headers('authorization') authorization: string | undefined, @Body() body: unknown): Promise<{ outcome: AnsweredOutcome }> {
    if (!tokenMatches(authorization, this.config.NOTIFY_CALLBACK_TOKEN)) {
      throw new Problem({
        type: problemType('unauthorized'),
        title: 'Unauthorized',
        status: 401,
        detail: 'A valid callback bearer token is required.',
      });
    }
    const receipt = parseOrProblem(deliveryReceiptSchema, body, 'receipt');
    const outcome = await this.handler.execute(receipt);
    // Notify retries a callback answered with 5xx or 429 (not other 4xx); by the retry the send is recorded.
    if (outcome === 'not-yet') {
      throw unavailableProblem('The message this receipt is for is still being recorded; send it again shortly.', { retryAfterSeconds: 5 });
    }
    return { outcome };
  }
}
