import { Body, Controller, Get, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Topics } from '@sonet/contracts';
import { Backend, idempotencyKey } from '../backend';
import { CONSOLE_CONFIG, type ConsoleConfig } from '../config';
import { parse, submissionSchema, uuidParam } from '../forms';
import { metricByLabel, temporalLink, traceLink } from '../links';
import { requireUser } from '../session';
import { Ui } from '../ui';

const TOPICS = Object.values(Topics) as string[];
/** Rows a list shows. */
const PAGE = 50;
const topicQuery = z.object({ topic: z.enum(TOPICS as [string, ...string[]]).optional() });
const deadLetterId = z.string().regex(/^[a-z0-9._-]+\.dlq:\d{1,5}:\d{1,19}$/, 'must be a dead-letter id');
const replayForm = submissionSchema.extend({
  id: deadLetterId,
  topic: z.enum(TOPICS as [string, ...string[]]),
  confirmed: z.literal('yes').optional(),
});
const retryForm = submissionSchema.extend({ confirmed: z.literal('yes').optional() });
const TRANSFER_STATUSES = [
  'failed',
  'refused',
  'review',
  'sending',
  'in-progress',
  'awaiting-target',
  'ready',
  'discovering',
  'completed',
  'cancelled',
] as const;
const transferQuery = z.object({ status: z.enum(TRANSFER_STATUSES).default('failed') });

interface DeadLetter {
  id: string;
  eventType: string | null;
  key: string | null;
  reason: string;
  error: string | null;
  consumerGroup: string | null;
  attempts: number;
  deadLettered: number;
  lastFailureAt: string | null;
}
interface Transfer {
  transferId: string;
  referralId: string;
  status: string;
  reason: string | null;
  retries: number;
  sourceOrganisation: string;
  targetOrganisation: string;
  requestedAt: string;
  items?: unknown[];
  gaps?: unknown[];
}

/** Operations (role ops): where referrals are, what is stuck, dead letters, transfers and undelivered notifications. */
@Controller('ops')
export class OpsController {
  constructor(
    private readonly backend: Backend,
    private readonly ui: Ui,
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
  ) {}

  @Get()
  async overview(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    requireUser(request, 'ops');
    const metrics = await this.backend.metrics('referral');
    const byState = metricByLabel(metrics, 'sonet_referrals', 'referral_state');
    const overdue = metricByLabel(metrics, 'sonet_referral_steps_overdue', 'referral_urgency');
    return this.ui.page(request, reply, 'ops/overview.njk', {
      title: 'Referrals by state',
      byState,
      overdue,
      total: byState.reduce((n, s) => n + s.value, 0),
    });
  }

  @Get('stuck')
  async stuck(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const user = requireUser(request, 'ops');
    const { body } = await this.backend.json<{
      referrals: {
        referralId: string;
        state: string;
        urgency: string;
        reason: string;
        step: string | null;
        since: string | null;
        links: { temporal: string; trace: string | null };
      }[];
      workflows: {
        workflowId: string;
        activityType: string;
        attempt: number;
        lastFailureType: string | null;
        links: { temporal: string; trace: string | null };
      }[];
    }>(user, 'referral', '/v1/ops/stuck');
    return this.ui.page(request, reply, 'ops/stuck.njk', {
      title: 'Stuck referrals',
      referrals: body.referrals,
      workflows: body.workflows,
    });
  }

  @Get('dead-letters')
  async deadLetters(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Query() query: unknown) {
    const user = requireUser(request, 'ops');
    const topic = parse(topicQuery, query).topic ?? Topics.referralEvents;
    const { body } = await this.backend.json<{ items: DeadLetter[] }>(
      user,
      'referral',
      `/v1/ops/dead-letters?topic=${encodeURIComponent(topic)}`,
    );
    // The most recent first, and a page of them: a topic can hold thousands after an incident.
    const newest = [...body.items].sort((a, b) => (b.lastFailureAt ?? '').localeCompare(a.lastFailureAt ?? '')).slice(0, PAGE);
    const items = newest.map((d) => ({ ...d, temporal: d.key && isUuid(d.key) ? temporalLink(this.config, d.key) : null }));
    return this.ui.page(request, reply, 'ops/dead-letters.njk', {
      title: `Dead letters of ${topic}`,
      topic,
      topics: TOPICS.map((t) => ({ value: t, text: t, selected: t === topic })),
      items,
      total: body.items.length,
    });
  }

  /** First POST: the confirmation page (same submission id). Second POST (confirmed=yes): the replay and its result. */
  @Post('dead-letters/replay')
  async replay(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown) {
    const user = requireUser(request, 'ops');
    const form = parse(replayForm, body);
    if (form.confirmed !== 'yes') {
      return this.ui.page(request, reply, 'ops/replay-confirm.njk', {
        title: 'Replay this dead letter?',
        id: form.id,
        topic: form.topic,
        formSubmission: form.submission,
      });
    }
    const { body: replayed } = await this.backend.json<DeadLetter>(
      user,
      'referral',
      `/v1/ops/dead-letters/${encodeURIComponent(form.id)}/replay`,
      {
        method: 'POST',
        idempotencyKey: idempotencyKey(request.session.sessionId, form.submission, `replay:${form.id}`),
      },
    );
    return this.ui.page(request, reply, 'ops/replay-done.njk', { title: 'Dead letter replayed', replayed, topic: form.topic });
  }

  @Get('transfers')
  async transfers(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Query() query: unknown) {
    const user = requireUser(request, 'ops');
    const { status } = parse(transferQuery, query);
    const { body } = await this.backend.json<{ items: Transfer[] }>(
      user,
      'records-transfer',
      `/v1/transfers?status=${status}&limit=${PAGE}`,
    );
    return this.ui.page(request, reply, 'ops/transfers.njk', {
      title: `Records transfers: ${status}`,
      status,
      statuses: TRANSFER_STATUSES.map((s) => ({ value: s, text: s, selected: s === status })),
      items: body.items.map((t) => ({ ...t, temporal: temporalLink(this.config, t.referralId) })),
    });
  }

  @Get('transfers/:id')
  async transfer(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Param('id') id: string) {
    const user = requireUser(request, 'ops');
    const transferId = parse(uuidParam, id);
    const { body } = await this.backend.json<Transfer>(user, 'records-transfer', `/v1/transfers/${transferId}`);
    return this.ui.page(request, reply, 'ops/transfer.njk', {
      title: 'Records transfer',
      transfer: body,
      temporal: temporalLink(this.config, body.referralId),
    });
  }

  @Post('transfers/:id/retry')
  async retry(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Param('id') id: string, @Body() body: unknown) {
    const user = requireUser(request, 'ops');
    const transferId = parse(uuidParam, id);
    const form = parse(retryForm, body);
    if (form.confirmed !== 'yes') {
      return this.ui.page(request, reply, 'ops/retry-confirm.njk', {
        title: 'Retry this transfer?',
        transferId,
        formSubmission: form.submission,
      });
    }
    const { body: retried } = await this.backend.json<Transfer>(user, 'records-transfer', `/v1/transfers/${transferId}/retry`, {
      method: 'POST',
      idempotencyKey: idempotencyKey(request.session.sessionId, form.submission, `retry:${transferId}`),
    });
    return this.ui.page(request, reply, 'ops/retry-done.njk', { title: 'Transfer retried', transfer: retried ?? { transferId } });
  }

  @Get('notifications')
  async notifications(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const user = requireUser(request, 'ops');
    const { body } = await this.backend.json<{ items: { referralId: string }[] }>(
      user,
      'notification',
      `/v1/notifications/unreachable?limit=${PAGE}`,
    );
    return this.ui.page(request, reply, 'ops/notifications.njk', {
      title: 'Notifications that could not be delivered',
      items: body.items.map((n) => ({ ...n, temporal: temporalLink(this.config, n.referralId) })),
    });
  }

  /** One referral as operations sees it: state, timeline, its transfers and notifications, the Temporal and trace links. */
  @Get('referrals/:id')
  async referral(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Param('id') id: string) {
    const user = requireUser(request, 'ops');
    const referralId = parse(uuidParam, id);
    const [{ body: referral }, { body: transfers }, { body: notifications }] = await Promise.all([
      this.backend.json<{ id: string; state: string; traceId?: string; timeline: unknown[] }>(
        user,
        'referral',
        `/v1/referrals/${referralId}`,
      ),
      this.backend.json<{ items: Transfer[] }>(user, 'records-transfer', `/v1/transfers?referralId=${referralId}`),
      this.backend.json<{ items: unknown[] }>(user, 'notification', `/v1/notifications?referralId=${referralId}`),
    ]);
    return this.ui.page(request, reply, 'ops/referral.njk', {
      title: 'Referral',
      referral,
      transfers: transfers.items,
      notifications: notifications.items,
      temporal: temporalLink(this.config, referralId),
      trace: traceLink(this.config, referral.traceId),
    });
  }
}

const isUuid = (s: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
