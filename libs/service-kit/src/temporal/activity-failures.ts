import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import type { Context } from '@temporalio/activity';

/** What operations need to know of an activity attempt: which workflow, which activity, which attempt. */
export interface ActivityAttempt {
  readonly workflowId: string;
  readonly workflowType: string;
  readonly activityType: string;
  readonly attempt: number;
  readonly local: boolean;
}

/**
 * Where a worker reports activities that keep failing, and their recovery. Local activities never show in
 * Temporal's pending activities (they run inside the workflow task), so without this an operator cannot see a
 * workflow whose short database step keeps failing. Implementations must not throw (a report that cannot be
 * written is lost, the activity's own outcome is not).
 */
export interface ActivityFailureSink {
  failing(attempt: ActivityAttempt, failureType: string, at: Date): Promise<void>;
  recovered(attempt: ActivityAttempt): Promise<void>;
}

/** An attempt this far into its retries is "failing", not "retrying once" (the same threshold as Temporal's pending list). */
export const FAILING_ACTIVITY_ATTEMPTS = 3;

/** The failure's type only: messages can quote what an activity read (patient details). */
export const failureTypeOf = (e: unknown): string => {
  if (e && typeof e === 'object') {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string' && type) return type;
    const name = (e as { name?: unknown }).name;
    if (typeof name === 'string' && name) return name;
  }
  return 'Error';
};

/**
 * Reports an activity to the sink from its FAILING_ACTIVITY_ATTEMPTS-th failed attempt on, and its recovery when a
 * later attempt succeeds. The activity's result or error passes through unchanged.
 */
export class ActivityFailureInterceptor implements ActivityInboundCallsInterceptor {
  constructor(
    private readonly ctx: Context,
    private readonly sink: ActivityFailureSink,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const info = this.ctx.info;
    // An activity run outside a workflow (a standalone activity) has no workflow to show as stuck.
    if (!info.workflowExecution) return next(input);
    const attempt: ActivityAttempt = {
      workflowId: info.workflowExecution.workflowId,
      workflowType: info.workflowType ?? '',
      activityType: info.activityType,
      attempt: info.attempt,
      local: info.isLocal,
    };
    try {
      const result = await next(input);
      if (attempt.attempt >= FAILING_ACTIVITY_ATTEMPTS) await this.sink.recovered(attempt).catch(() => undefined);
      return result;
    } catch (e) {
      if (attempt.attempt >= FAILING_ACTIVITY_ATTEMPTS - 1) {
        // This attempt failed: the next one is the FAILING_ACTIVITY_ATTEMPTS-th, as Temporal counts pending ones.
        await this.sink.failing({ ...attempt, attempt: attempt.attempt + 1 }, failureTypeOf(e), this.now()).catch(() => undefined);
      }
      throw e;
    }
  }
}
