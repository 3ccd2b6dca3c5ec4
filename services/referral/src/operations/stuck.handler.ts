import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { Principal } from '@sonet/auth';
import { recordAccess } from '@sonet/messaging';
import type { ReferralConfig } from '../config';
import { traceIdOf } from '../get-referral/get-referral.handler';
import { REFERRAL_CONFIG, TEMPORAL_CLIENT } from '../infrastructure/tokens';
import { workflowIdFor } from '../workflows/definitions';

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
  readonly attempt: number;
  /** The failure's type only: messages can quote what an activity read. */
  readonly lastFailureType: string | null;
  readonly lastFailedAt: string | null;
  readonly links: OpsLinks;
}

export interface StuckAnswer {
  readonly referrals: StuckReferral[];
  readonly workflows: FailingWorkflow[];
  /** What this service cannot see (ADR 0015): undeliverable notifications are the notification service's. */
  readonly elsewhere: { readonly undeliverableNotifications: string };
}

/** An activity retried this often is "failing", not "retrying once". */
const FAILING_ATTEMPTS = 3;
const MAX_WORKFLOWS = 200;

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
    await recordAccess(this.em.fork(), principal, {
      referralId: referrals.map((r) => r.referralId),
      resource: { service: 'referral', kind: 'stuck-referrals', action: 'search' },
    });
    return {
      referrals,
      workflows: await this.failingWorkflows(),
      elsewhere: {
        undeliverableNotifications:
          'the notification service: sonet_notifications{notification_status="failed"} on its /metrics; per referral, GET /v1/notifications?referralId=',
      },
    };
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

  private async failingWorkflows(): Promise<FailingWorkflow[]> {
    const failing: FailingWorkflow[] = [];
    let seen = 0;
    for await (const wf of this.temporal.workflow.list({ query: 'ExecutionStatus="Running"' })) {
      if (++seen > MAX_WORKFLOWS) break;
      const { raw } = await this.temporal.workflow.getHandle(wf.workflowId, wf.runId).describe();
      for (const a of raw.pendingActivities ?? []) {
        if ((a.attempt ?? 0) < FAILING_ATTEMPTS) continue;
        const lastFailedAt = a.lastAttemptCompleteTime?.seconds
          ? new Date(Number(a.lastAttemptCompleteTime.seconds) * 1000).toISOString()
          : null;
        failing.push({
          workflowId: wf.workflowId,
          workflowType: wf.type,
          activityType: a.activityType?.name ?? '',
          attempt: a.attempt ?? 0,
          lastFailureType: a.lastFailure?.applicationFailureInfo?.type ?? (a.lastFailure ? 'failure' : null),
          lastFailedAt,
          links: this.links(wf.workflowId, null),
        });
      }
    }
    return failing;
  }
}
