import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Principal } from '@sonet/auth';
import { recordAccess } from '@sonet/messaging';
import type { ReferralConfig } from '../config';
import { traceIdOf } from '../get-referral/get-referral.handler';
import { REFERRAL_CONFIG, TEMPORAL_CLIENT } from '../infrastructure/tokens';
import { workflowIdFor } from '../workflows/definitions';
import { failingActivities, forgetFailingActivities, undeliverableNotifications } from './operations-watch';

/** Where to look: the workflow in Temporal's UI and the trace of the request that started it. */
export interface OpsLinks {
  readonly temporal: string;
  readonly trace: string | null;
}

export interface StuckReferral {
  readonly referralId: string;
  readonly state: string;
  readonly urgency: string;
  readonly reason: 'overdue-step' | 'transfer-failed';
  readonly step: string | null;
  readonly since: string | null;
  readonly links: OpsLinks;
}

export interface FailingWorkflow {
  readonly workflowId: string;
  readonly workflowType: string;
  readonly activityType: string;
  /** Local activities (short database steps run inside the workflow task) are reported by the worker itself. */
  readonly local: boolean;
  readonly attempt: number;
  /** The failure's type only: messages can quote what an activity read. */
  readonly lastFailureType: string | null;
  readonly lastFailedAt: string | null;
  readonly links: OpsLinks;
}

export interface UndeliverableNotification {
  readonly notificationId: string;
  readonly referralId: string;
  readonly recipientRole: string;
  /** The last channel tried (after every fallback the recipient agreed to). */
  readonly channel: string;
  readonly template: string;
  readonly reason: string;
  readonly attempts: number;
  readonly failedAt: string;
  readonly links: OpsLinks;
}

export interface StuckAnswer {
  readonly referrals: StuckReferral[];
  readonly workflows: FailingWorkflow[];
  /** Recipients who could not be told (notification.failed.v1); per notification, GET /v1/notifications?referralId= on notification. */
  readonly notifications: UndeliverableNotification[];
}

/** An activity retried this often is "failing", not "retrying once". */
const FAILING_ATTEMPTS = 3;
const MAX_WORKFLOWS = 200;
const MAX_NOTIFICATIONS = 500;
const DESCRIBE_CONCURRENCY = 16;

interface StuckRow {
  id: string;
  state: string;
  urgency: string;
  reason: 'overdue-step' | 'transfer-failed';
  step: string | null;
  since: Date | string | null;
  traceparent: string | null;
}

/**
 * GET /v1/ops/stuck: referrals whose step is overdue or whose records transfer failed (the read model), and
 * workflows in the namespace (referrals' and transfers') whose pending activity keeps failing (Temporal's list and
 * describe), each with links to the Temporal UI and the trace.
 */
@Injectable()
export class StuckHandler {
  constructor(
    private readonly em: EntityManager,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
    @Inject(REFERRAL_CONFIG) private readonly config: ReferralConfig,
  ) {}

  async execute(principal: Principal): Promise<StuckAnswer> {
    const referrals = await this.stuckReferrals();
    const notifications = await this.undeliverable();
    await recordAccess(this.em.fork(), principal, {
      referralId: [...new Set([...referrals.map((r) => r.referralId), ...notifications.map((n) => n.referralId)])],
      resource: { service: 'referral', kind: 'stuck-referrals', action: 'search' },
    });
    return { referrals, workflows: await this.failingWorkflows(), notifications };
  }

  private links(workflowId: string, traceparent: string | null): OpsLinks {
    const traceId = traceIdOf(traceparent);
    return {
      temporal: `${this.config.TEMPORAL_UI_URL}/namespaces/${this.config.TEMPORAL_NAMESPACE}/workflows/${encodeURIComponent(workflowId)}`,
      trace: traceId ? `${this.config.TRACE_VIEWER_URL}/traces/${traceId}` : null,
    };
  }

  private async stuckReferrals(): Promise<StuckReferral[]> {
    const rows = await this.em.fork().execute<StuckRow[]>(
      `select id, state, urgency, 'overdue-step' as reason, due_step as step, due_at as since, traceparent
         from referral where due_at < now()
       union all
       select r.id, r.state, r.urgency, 'transfer-failed', null, t.at, r.traceparent
         from referral r
         join lateral (select event_type, at from referral_timeline
                        where referral_id = r.id and event_type like 'records.transfer-%'
                        order by at desc limit 1) t on t.event_type = 'records.transfer-failed.v1'
       order by since limit 500`,
    );
    return rows.map((r) => ({
      referralId: r.id,
      state: r.state,
      urgency: r.urgency,
      reason: r.reason,
      step: r.step,
      since: r.since ? new Date(r.since).toISOString() : null,
      links: this.links(workflowIdFor(r.id), r.traceparent),
    }));
  }

  private async undeliverable(): Promise<UndeliverableNotification[]> {
    const rows = await undeliverableNotifications(this.em.fork(), MAX_NOTIFICATIONS);
    return rows.map((r) => ({
      notificationId: r.notification_id,
      referralId: r.referral_id,
      recipientRole: r.recipient_role,
      channel: r.channel,
      template: r.template,
      reason: r.reason,
      attempts: r.attempts,
      failedAt: new Date(r.failed_at).toISOString(),
      links: this.links(workflowIdFor(r.referral_id), r.traceparent),
    }));
  }

  /**
   * Running workflows whose pending activity is on its FAILING_ATTEMPTS-th attempt or later (Temporal's view), and
   * the local activities this service's worker reported failing (not in Temporal's view), once each.
   */
  private async failingWorkflows(): Promise<FailingWorkflow[]> {
    const failing = new Map<string, FailingWorkflow>();
    const running: { workflowId: string; runId: string; type: string }[] = [];
    for await (const wf of this.temporal.workflow.list({ query: 'ExecutionStatus="Running"' })) {
      if (running.push({ workflowId: wf.workflowId, runId: wf.runId, type: wf.type }) >= MAX_WORKFLOWS) break;
    }
    // Described DESCRIBE_CONCURRENCY at a time: one round trip each, so the list answers in about a second.
    for (let i = 0; i < running.length; i += DESCRIBE_CONCURRENCY) {
      const batch = running.slice(i, i + DESCRIBE_CONCURRENCY);
      const described = await Promise.all(
        batch.map(async (wf) => ({ wf, raw: (await this.temporal.workflow.getHandle(wf.workflowId, wf.runId).describe()).raw })),
      );
      for (const { wf, raw } of described) {
        for (const a of raw.pendingActivities ?? []) {
          if ((a.attempt ?? 0) < FAILING_ATTEMPTS) continue;
          const lastFailedAt = a.lastAttemptCompleteTime?.seconds
            ? new Date(Number(a.lastAttemptCompleteTime.seconds) * 1000).toISOString()
            : null;
          const activityType = a.activityType?.name ?? '';
          failing.set(`${wf.workflowId} ${activityType}`, {
            workflowId: wf.workflowId,
            workflowType: wf.type,
            activityType,
            local: false,
            attempt: a.attempt ?? 0,
            lastFailureType: a.lastFailure?.applicationFailureInfo?.type ?? (a.lastFailure ? 'failure' : null),
            lastFailedAt,
            links: this.links(wf.workflowId, null),
          });
        }
      }
    }
    for (const r of await failingActivities(this.em.fork(), MAX_WORKFLOWS)) {
      if (failing.has(`${r.workflow_id} ${r.activity_type}`)) continue;
      if (!(await this.stillRunning(r.workflow_id))) {
        await forgetFailingActivities(this.em.fork(), r.workflow_id);
        continue;
      }
      failing.set(`${r.workflow_id} ${r.activity_type}`, {
        workflowId: r.workflow_id,
        workflowType: r.workflow_type,
        activityType: r.activity_type,
        local: r.local,
        attempt: r.attempt,
        lastFailureType: r.last_failure_type,
        lastFailedAt: new Date(r.last_failed_at).toISOString(),
        links: this.links(r.workflow_id, null),
      });
    }
    return [...failing.values()];
  }

  private async stillRunning(workflowId: string): Promise<boolean> {
    try {
      return (await this.temporal.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) return false;
      throw e;
    }
  }
}
