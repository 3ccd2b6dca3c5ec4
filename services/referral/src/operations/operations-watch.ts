import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { nativeQuery, type ActivityAttempt, type ActivityFailureSink } from '@sonet/service-kit';

/**
 * What the stuck list reads besides the referrals (ADR 0015): activities that keep failing, as this service's worker
 * saw them (local activities run inside the workflow task, so Temporal's pending activities never show them), and
 * notifications the notification service gave up on (its notification.failed.v1 events). Ids, types and times only.
 */
export const OPERATIONS_WATCH_SCHEMA_V1 = `
  create table failing_activity (
    workflow_id text not null,
    activity_type text not null,
    workflow_type text not null,
    attempt int not null,
    local boolean not null,
    last_failure_type text not null,
    last_failed_at timestamptz not null,
    primary key (workflow_id, activity_type)
  );
  create table undeliverable_notification (
    notification_id uuid primary key,
    referral_id uuid not null,
    recipient_role text not null,
    channel text not null,
    template text not null,
    reason text not null,
    attempts int not null,
    failed_at timestamptz not null
  );
  create index undeliverable_notification_failed_at_idx on undeliverable_notification (failed_at);
`;

/** The worker's reports of activities that keep failing, kept until a later attempt succeeds or the workflow ends. */
export class PostgresActivityFailureSink implements ActivityFailureSink {
  constructor(private readonly orm: MikroORM) {}

  async failing(a: ActivityAttempt, failureType: string, at: Date): Promise<void> {
    await nativeQuery(
      this.orm.em.fork(),
      `insert into failing_activity (workflow_id, activity_type, workflow_type, attempt, local, last_failure_type, last_failed_at)
       values ($1, $2, $3, $4, $5, $6, $7)
       on conflict (workflow_id, activity_type) do update
         set attempt = greatest(failing_activity.attempt, excluded.attempt), last_failure_type = excluded.last_failure_type,
             last_failed_at = excluded.last_failed_at`,
      [a.workflowId, a.activityType, a.workflowType, a.attempt, a.local, failureType, at],
    );
  }

  async recovered(a: ActivityAttempt): Promise<void> {
    await nativeQuery(this.orm.em.fork(), `delete from failing_activity where workflow_id = $1 and activity_type = $2`, [
      a.workflowId,
      a.activityType,
    ]);
  }
}

export interface FailingActivityRow {
  workflow_id: string;
  activity_type: string;
  workflow_type: string;
  attempt: number;
  local: boolean;
  last_failure_type: string;
  last_failed_at: Date | string;
}

export const failingActivities = (em: EntityManager, limit: number): Promise<FailingActivityRow[]> =>
  nativeQuery<FailingActivityRow>(em, `select * from failing_activity order by last_failed_at desc limit $1`, [limit]);

/** A report whose workflow has ended (completed, terminated) is no longer anyone's problem. */
export const forgetFailingActivities = (em: EntityManager, workflowId: string): Promise<unknown> =>
  nativeQuery(em, `delete from failing_activity where workflow_id = $1`, [workflowId]);

export interface UndeliverableRow {
  notification_id: string;
  referral_id: string;
  recipient_role: string;
  channel: string;
  template: string;
  reason: string;
  attempts: number;
  failed_at: Date | string;
  traceparent: string | null;
}

export const undeliverableNotifications = (em: EntityManager, limit: number): Promise<UndeliverableRow[]> =>
  nativeQuery<UndeliverableRow>(
    em,
    `select u.*, r.traceparent from undeliverable_notification u left join referral r on r.id = u.referral_id
     order by u.failed_at desc limit $1`,
    [limit],
  );
