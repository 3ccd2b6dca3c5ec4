import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { ReferralState } from '../domain/referral-state';
import {
  allowedActions,
  checkDecision,
  DecisionRejected,
  isTerminal,
  nextState,
  waitingStepOf,
  type DecisionAction,
  type DecisionContext,
  type TeamSnapshot,
  type WaitingStep,
} from './decider';
import {
  decisionUpdate,
  DECISION_NOT_ALLOWED,
  DECISION_SAME_TEAM,
  recordsTransferOutcomeSignal,
  REVISION_MISMATCH,
  statusQuery,
  type Actor,
  type DecisionRequest,
  type ReferralActivities,
  type SecondOpinionInput,
  type SecondOpinionStatus,
  type TimerPolicy,
  type TransitionRecord,
  type WorkflowTimelineEntry,
} from './definitions';
import { Mutex } from './mutex';
import { eventTypeOf, type SystemAction } from './transitions';

const ACTIVITY_OPTIONS = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
} as const;
/** As scheduled before local-activities: each a task the server dispatches (kept for executions started then). */
const scheduledActivities = proxyActivities<ReferralActivities>(ACTIVITY_OPTIONS);
/**
 * Every activity is a short write to the referral's own database (read model, timeline and outbox in one
 * transaction): run in the worker as local activities, within the workflow task that asked for them, so a step
 * costs the server no activity task and no extra workflow task (ADR 0018). Retries past the threshold back off
 * on a durable timer.
 */
const localActivities = proxyLocalActivities<ReferralActivities>({ ...ACTIVITY_OPTIONS, localRetryThreshold: '10 seconds' });

const DAY = 24 * 60 * 60 * 1000;

/** Timings for executions started before timers existed (their input carries no policy). */
export const FALLBACK_POLICY: TimerPolicy = {
  steps: {
    'gp-decision': { dueMs: 14 * DAY, reminderBeforeMs: 3 * DAY },
    triage: { dueMs: 14 * DAY, reminderBeforeMs: 3 * DAY },
    'more-info': { dueMs: 14 * DAY, reminderBeforeMs: 3 * DAY },
    booking: { dueMs: 28 * DAY, reminderBeforeMs: 7 * DAY },
    opinion: { dueMs: 28 * DAY, reminderBeforeMs: 7 * DAY },
  },
  closeAfterOpinionMs: 30 * DAY,
};

const SYSTEM: Actor = { role: 'system' };

type TransferOutcome = { transferId: string; outcome: 'completed' | 'failed'; reason?: string };
type Due = { step: WaitingStep; at: string };

/** Which behaviour an execution runs: each flag is a `patched()` marker, read once at the start. */
interface Versions {
  /** process-v2: timers, decisions and the records transfer at referral (v1, the walking skeleton, asked for it at request). */
  readonly v2: boolean;
  /** fifo-mutex: transitions queue first come first served (before it, two waiters could enter at once). */
  readonly fifoMutex: boolean;
  /** local-activities: the steps run as local activities (before it, as scheduled activities). */
  readonly localActivities: boolean;
}

/**
 * The long-running process of one second-opinion referral (workflow id `second-opinion/<referralId>`).
 * Human decisions arrive as the `decision` Update, validated against the state machine in ./decider before
 * anything is recorded; each recorded transition writes the read model, the timeline and its event in one
 * activity. Timers remind before each due step, escalate urgent waits (rule 10) and close the process after
 * the opinion. Withdrawal ends it from any open state, stops the timers and cancels the records transfer.
 */
export async function secondOpinionWorkflow(input: SecondOpinionInput): Promise<void> {
  const referral = new SecondOpinionReferral(input, {
    v2: patched('process-v2'),
    fifoMutex: patched('fifo-mutex'),
    localActivities: patched('local-activities'),
  });
  setHandler(statusQuery, () => referral.status());
  setHandler(decisionUpdate, (req) => referral.decide(req), { validator: (req) => referral.validate(req.action, req.expectedRevision) });
  setHandler(recordsTransferOutcomeSignal, (outcome) => referral.noteTransferOutcome(outcome));
  await referral.run();
  await condition(allHandlersFinished);
}

/** The state the process enters once the request is recorded. */
const FIRST_WAITING_STATE: ReferralState = 'gp-review';

/** The state of one referral's process and what can happen to it; one instance per workflow execution. */
export class SecondOpinionReferral {
  private state: ReferralState = 'requested';
  private revision = 0;
  /** Numbers the recorded steps (transitions and reminders); with the workflow id it derives their event ids. */
  private seq = 0;
  /** Bumped on every state change: timers started in an older state see it and stand down. */
  private epoch = 0;
  private attempt = 0;
  private originalTeamInformed = false;
  private targetTeam: TeamSnapshot | undefined;
  private transferId: string | undefined;
  private responsible: 'original' | 'receiving' = 'original';
  private appointmentBooked = false;
  private due: Due | undefined;
  private readonly timeline: WorkflowTimelineEntry[] = [];
  private readonly transferOutcomes: TransferOutcome[] = [];
  /** One transition at a time: decisions, timers and signals never interleave their activities. */
  private readonly mutex: Mutex;
  private readonly policy: TimerPolicy;
  private readonly referralId: string;
  /** The steps this execution records, as its version runs them. */
  private readonly activities: ReferralActivities;

  constructor(
    private readonly input: SecondOpinionInput,
    private readonly versions: Versions,
  ) {
    this.policy = input.policy ?? FALLBACK_POLICY;
    this.referralId = input.referralId;
    this.mutex = new Mutex(versions.fifoMutex);
    this.activities = versions.localActivities ? localActivities : scheduledActivities;
  }

  status(): SecondOpinionStatus {
    return {
      referralId: this.referralId,
      state: this.state,
      revision: this.revision,
      allowedActions: allowedActions(this.context()),
      responsibleTeam: this.responsible,
      ...(this.due ? { dueAt: this.due.at, dueStep: this.due.step } : {}),
      timeline: this.timeline,
    };
  }

  /** The request, the first waits, then records-transfer outcomes until the process ends. */
  async run(): Promise<void> {
    await this.recordRequest();
    if (!this.versions.v2) {
      const transfer = await this.activities.requestRecordsTransfer({ referralId: this.referralId });
      if (transfer.requested) this.timeline.push({ at: transfer.at, state: this.state, event: 'records.transfer-requested.v1' });
    }
    if (this.versions.v2) this.escalateUrgentWait();
    while (!isTerminal(this.state)) {
      await condition(() => isTerminal(this.state) || this.transferOutcomes.length > 0);
      for (let o = this.transferOutcomes.shift(); o; o = this.transferOutcomes.shift()) {
        const outcome = o;
        await this.mutex.runExclusive(() => this.activities.recordTransferOutcome({ referralId: this.referralId, ...outcome }));
      }
    }
  }

  /** The `decision` Update: checked again once its turn comes, since an earlier decision may have moved the state. */
  decide(req: DecisionRequest): Promise<SecondOpinionStatus> {
    return this.mutex.runExclusive(async () => {
      // Sent right after the request (the caller has its 202): wait for the request to be recorded, then decide.
      if (this.awaitsFirstStep(req.action)) await condition(() => this.state !== 'requested');
      this.validate(req.action, req.expectedRevision);
      await this.takeDecision(req.action, req.actor, req.traceparent);
      return this.status();
    });
  }

  noteTransferOutcome(outcome: TransferOutcome): void {
    this.transferOutcomes.push(outcome);
  }

  /**
   * A decision that comes while the request is still being recorded (state `requested`, the workflow's first
   * step), which `requested` does not allow but the state the request is entering does: it is not refused, it
   * waits for that step. Only decisions the validator used to refuse take this path, so recorded histories replay
   * unchanged (a refused Update leaves nothing in the history).
   */
  private awaitsFirstStep(action: DecisionAction): boolean {
    return (
      this.state === 'requested' &&
      !allowedActions(this.context()).includes(action.type) &&
      allowedActions({ ...this.context(), state: FIRST_WAITING_STATE }).includes(action.type)
    );
  }

  /** The Update's validator: refuses (before anything is recorded) a stale revision or a decision the state does not allow. */
  validate(action: DecisionAction, expectedRevision: number | undefined): void {
    const details = () => [{ state: this.state, revision: this.revision, allowedActions: allowedActions(this.context()) }];
    if (expectedRevision !== undefined && expectedRevision !== this.revision) {
      throw ApplicationFailure.create({
        type: REVISION_MISMATCH,
        message: `the referral has changed since revision ${expectedRevision}; it is now at revision ${this.revision}`,
        details: details(),
        nonRetryable: true,
      });
    }
    try {
      checkDecision(this.awaitsFirstStep(action) ? { ...this.context(), state: FIRST_WAITING_STATE } : this.context(), action);
    } catch (e) {
      if (!(e instanceof DecisionRejected)) throw e;
      throw ApplicationFailure.create({
        type: e.reason === 'same-team' ? DECISION_SAME_TEAM : DECISION_NOT_ALLOWED,
        message: e.message,
        details: details(),
        nonRetryable: true,
      });
    }
  }

  private context(): DecisionContext {
    return {
      state: this.state,
      originalTeamId: this.input.originalTeamId ?? '',
      originalTeamInformed: this.originalTeamInformed,
      ...(this.targetTeam ? { targetTeamId: this.targetTeam.teamId } : {}),
    };
  }

  private async recordRequest(): Promise<void> {
    const firstDue = this.versions.v2 ? this.dueFor('gp-review') : undefined;
    const requested = await this.activities.recordRequested({ referralId: this.referralId, ...(firstDue ? { dueAt: firstDue.at } : {}) });
    this.timeline.push({ at: requested.at, state: 'requested', event: 'referral.requested.v1' });
    // A withdrawal may have come in while the request was being recorded.
    if (this.state === 'requested') {
      this.state = FIRST_WAITING_STATE;
      this.epoch += 1;
      this.due = firstDue;
      this.startTimersFor('gp-review');
    }
  }

  /** Records the decision's transition, then what follows from it for the rest of the process. */
  private async takeDecision(action: DecisionAction, actor: Actor, traceparent?: string): Promise<void> {
    const to = nextState(this.context(), action);
    if (action.type === 'refer') {
      this.attempt += 1;
      this.targetTeam = action.targetTeam;
    }
    await this.transition(action, to, actor, traceparent);
    switch (action.type) {
      case 'refer':
        if (this.versions.v2) await this.requestTransfer(action.targetTeam, traceparent);
        break;
      case 'inform-original-team':
        this.originalTeamInformed = true;
        break;
      case 'book-appointment':
        this.appointmentBooked = true;
        break;
      case 'care-transfer-decision':
        if (action.accept) this.responsible = 'receiving';
        await this.close(action.accept ? 'care-transferred' : 'care-retained', traceparent);
        break;
      case 'withdraw':
      case 'decline':
        await this.cancelTransfer(`referral ${to}`, traceparent);
        break;
      default:
        break;
    }
  }

  private close(outcome: SystemAction['outcome'], traceparent?: string): Promise<void> {
    return this.transition({ type: 'close', outcome }, 'closed', SYSTEM, traceparent);
  }

  /** Records a transition and moves the workflow's state; starts the timers of the new state. */
  private async transition(action: TransitionRecord['action'], to: ReferralState, actor: Actor, traceparent?: string): Promise<void> {
    const nextDue = isTerminal(to) ? undefined : this.dueFor(to);
    this.seq += 1;
    const { at } = await this.activities.recordTransition({
      referralId: this.referralId,
      seq: this.seq,
      fromState: this.state,
      toState: to,
      revision: this.revision + 1,
      actor,
      action,
      attempt: Math.max(this.attempt, 1),
      ...(nextDue ? { dueAt: nextDue.at, dueStep: nextDue.step } : {}),
      ...(traceparent ? { traceparent } : {}),
    });
    this.revision += 1;
    this.state = to;
    this.epoch += 1;
    this.due = nextDue;
    this.timeline.push({ at, state: to, event: eventTypeOf(action) });
    this.startTimersFor(to);
  }

  private dueFor(s: ReferralState): Due | undefined {
    const step = waitingStepOf(s);
    return step ? { step, at: new Date(Date.now() + this.policy.steps[step].dueMs).toISOString() } : undefined;
  }

  private startTimersFor(s: ReferralState): void {
    if (!this.versions.v2 || isTerminal(s)) return;
    const step = waitingStepOf(s);
    if (step && this.due) void this.remindUntilMovedOn(step, this.due.at);
    if (s === 'opinion-issued') void this.closeAfterOpinion();
  }

  /** A predicate that holds once the state has moved on from the current one. */
  private movedOn(): () => boolean {
    const epoch = this.epoch;
    return () => this.epoch !== epoch;
  }

  /** Reminds before the due time, then again when it has passed; stands down as soon as the state moves on. */
  private async remindUntilMovedOn(step: WaitingStep, dueAt: string): Promise<void> {
    const movedOn = this.movedOn();
    const timing = this.policy.steps[step];
    for (const [waitMs, overdue] of [
      [Math.max(0, timing.dueMs - timing.reminderBeforeMs), false],
      [Math.max(1, timing.reminderBeforeMs), true],
    ] as const) {
      if (await condition(movedOn, waitMs)) return;
      await this.mutex.runExclusive(async () => {
        if (!movedOn()) await this.activities.remind({ referralId: this.referralId, seq: ++this.seq, step, dueAt, overdue });
      });
    }
  }

  /** The process closes once the opinion has stood for a while without a care-transfer request. */
  private async closeAfterOpinion(): Promise<void> {
    const movedOn = this.movedOn();
    if (await condition(movedOn, this.policy.closeAfterOpinionMs)) return;
    await this.mutex.runExclusive(async () => {
      if (!movedOn()) await this.close('opinion-given');
    });
  }

  /** Rule 10: an urgent referral with no appointment within its threshold is escalated, once. */
  private escalateUrgentWait(): void {
    const threshold = this.policy.urgentEscalationMs;
    if (this.input.urgency !== 'urgent' || !threshold) return;
    const started = workflowInfo().startTime.getTime();
    const settled = () => this.appointmentBooked || isTerminal(this.state);
    void (async () => {
      if (await condition(settled, threshold)) return;
      await this.mutex.runExclusive(async () => {
        if (!settled()) {
          await this.activities.escalateUrgentWait({ referralId: this.referralId, waitedMs: Date.now() - started, thresholdMs: threshold });
        }
      });
    })();
  }

  /** Rule 4: the records follow the referral to the team the GP chose (a transfer to an earlier team stops). */
  private async requestTransfer(target: TeamSnapshot, traceparent: string | undefined): Promise<void> {
    await this.cancelTransfer('referred to another team', traceparent);
    const t = await this.activities.requestRecordsTransfer({
      referralId: this.referralId,
      target,
      ...(traceparent ? { traceparent } : {}),
    });
    if (t.requested) {
      this.transferId = t.transferId;
      this.timeline.push({ at: t.at, state: this.state, event: 'records.transfer-requested.v1' });
    }
  }

  private async cancelTransfer(reason: string, traceparent: string | undefined): Promise<void> {
    if (!this.transferId) return;
    await this.activities.cancelRecordsTransfer({
      referralId: this.referralId,
      transferId: this.transferId,
      reason,
      ...(traceparent ? { traceparent } : {}),
    });
  }
}
