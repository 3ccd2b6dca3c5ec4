import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  patched,
  proxyActivities,
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
  type ReferralActivities,
  type SecondOpinionInput,
  type SecondOpinionStatus,
  type TimerPolicy,
  type TransitionRecord,
  type WorkflowTimelineEntry,
} from './definitions';

const activities = proxyActivities<ReferralActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

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

/**
 * The long-running process of one second-opinion referral (workflow id `second-opinion/<referralId>`).
 * Human decisions arrive as the `decision` Update, validated against the state machine in ./decider before
 * anything is recorded; each recorded transition writes the read model, the timeline and its event in one
 * activity. Timers remind before each due step, escalate urgent waits (rule 10) and close the process after
 * the opinion. Withdrawal ends it from any open state, stops the timers and cancels the records transfer.
 */
export async function secondOpinionWorkflow(input: SecondOpinionInput): Promise<void> {
  // process-v2: timers, decisions and the records transfer at referral. Executions recorded before it
  // (the walking skeleton) asked for the transfer at request time and keep doing so on replay.
  const v2 = patched('process-v2');
  const policy = input.policy ?? FALLBACK_POLICY;
  const referralId = input.referralId;

  let state: ReferralState = 'requested';
  let revision = 0;
  let seq = 0;
  /** Bumped on every state change: timers started in an older state see it and stand down. */
  let epoch = 0;
  let attempt = 0;
  let originalTeamInformed = false;
  let targetTeam: TeamSnapshot | undefined;
  let transferId: string | undefined;
  let responsible: 'original' | 'receiving' = 'original';
  let appointmentBooked = false;
  let due: { step: WaitingStep; at: string } | undefined;
  let busy = false;
  const timeline: WorkflowTimelineEntry[] = [];
  const transferOutcomes: { transferId: string; outcome: 'completed' | 'failed'; reason?: string }[] = [];

  const now = () => new Date(Date.now());
  const context = (): DecisionContext => ({
    state,
    originalTeamId: input.originalTeamId ?? '',
    originalTeamInformed,
    ...(targetTeam ? { targetTeamId: targetTeam.teamId } : {}),
  });
  const status = (): SecondOpinionStatus => ({
    referralId,
    state,
    revision,
    allowedActions: allowedActions(context()),
    responsibleTeam: responsible,
    ...(due ? { dueAt: due.at, dueStep: due.step } : {}),
    timeline,
  });

  /** One transition at a time: decisions, timers and signals never interleave their activities. */
  const exclusively = async <T>(fn: () => Promise<T>): Promise<T> => {
    await condition(() => !busy);
    busy = true;
    try {
      return await fn();
    } finally {
      busy = false;
    }
  };

  const dueFor = (s: ReferralState): { step: WaitingStep; at: string } | undefined => {
    const step = waitingStepOf(s);
    return step ? { step, at: new Date(Date.now() + policy.steps[step].dueMs).toISOString() } : undefined;
  };

  /** Records a transition and moves the workflow's state; starts the timers of the new state. */
  const transition = async (
    action: TransitionRecord['action'],
    to: ReferralState,
    actor: Actor,
    eventType: string,
    traceparent?: string,
  ): Promise<void> => {
    const from = state;
    const nextDue = isTerminal(to) ? undefined : dueFor(to);
    seq += 1;
    const record: TransitionRecord = {
      referralId,
      seq,
      fromState: from,
      toState: to,
      revision: revision + 1,
      actor,
      action,
      attempt: Math.max(attempt, 1),
      ...(nextDue ? { dueAt: nextDue.at, dueStep: nextDue.step } : {}),
      ...(traceparent ? { traceparent } : {}),
    };
    const { at } = await activities.recordTransition(record);
    revision += 1;
    state = to;
    epoch += 1;
    due = nextDue;
    timeline.push({ at, state: to, event: eventType });
    startTimersFor(to);
  };

  const startTimersFor = (s: ReferralState) => {
    if (!v2 || isTerminal(s)) return;
    const myEpoch = epoch;
    const stillHere = () => epoch !== myEpoch;
    const step = waitingStepOf(s);
    if (step && due) {
      const timing = policy.steps[step];
      const dueAt = due.at;
      void (async () => {
        // Remind before the due time, then again when it has passed; stand down as soon as the state moves on.
        if (await condition(stillHere, Math.max(0, timing.dueMs - timing.reminderBeforeMs))) return;
        await exclusively(async () => {
          if (!stillHere()) await activities.remind({ referralId, seq: ++seq, step, dueAt, overdue: false });
        });
        if (await condition(stillHere, Math.max(1, timing.reminderBeforeMs))) return;
        await exclusively(async () => {
          if (!stillHere()) await activities.remind({ referralId, seq: ++seq, step, dueAt, overdue: true });
        });
      })();
    }
    if (s === 'opinion-issued') {
      void (async () => {
        if (await condition(stillHere, policy.closeAfterOpinionMs)) return;
        await exclusively(async () => {
          if (!stillHere()) await transition({ type: 'close', outcome: 'opinion-given' }, 'closed', SYSTEM, 'referral.closed.v1');
        });
      })();
    }
  };

  const requestTransfer = async (target: TeamSnapshot, traceparent: string | undefined) => {
    const trace = traceparent ? { traceparent } : {};
    if (transferId) {
      await activities.cancelRecordsTransfer({ referralId, transferId, reason: 'referred to another team', ...trace });
    }
    const t = await activities.requestRecordsTransfer({ referralId, target, ...trace });
    if (t.requested) {
      transferId = t.transferId;
      timeline.push({ at: t.at, state, event: 'records.transfer-requested.v1' });
    }
  };

  const decide = async (action: DecisionAction, actor: Actor, traceparent?: string): Promise<void> => {
    const to = nextState(context(), action);
    if (action.type === 'refer') {
      attempt += 1;
      targetTeam = action.targetTeam;
    }
    await transition(action, to, actor, eventTypeOf(action), traceparent);
    switch (action.type) {
      case 'refer':
        if (v2) await requestTransfer(action.targetTeam, traceparent);
        break;
      case 'inform-original-team':
        originalTeamInformed = true;
        break;
      case 'book-appointment':
        appointmentBooked = true;
        break;
      case 'care-transfer-decision':
        if (action.accept) responsible = 'receiving';
        await transition(
          { type: 'close', outcome: action.accept ? 'care-transferred' : 'care-retained' },
          'closed',
          SYSTEM,
          'referral.closed.v1',
          traceparent,
        );
        break;
      case 'withdraw':
      case 'decline':
        if (transferId) {
          await activities.cancelRecordsTransfer({ referralId, transferId, reason: `referral ${to}`, ...(traceparent ? { traceparent } : {}) });
        }
        break;
      default:
        break;
    }
  };

  setHandler(statusQuery, status);

  setHandler(
    decisionUpdate,
    (req) =>
      exclusively(async () => {
        // Checked again here: an earlier decision may have changed the state after this one was validated.
        validate(req.action, req.expectedRevision);
        await decide(req.action, req.actor, req.traceparent);
        return status();
      }),
    { validator: (req) => validate(req.action, req.expectedRevision) },
  );

  setHandler(recordsTransferOutcomeSignal, (outcome) => {
    transferOutcomes.push(outcome);
  });

  function validate(action: DecisionAction, expectedRevision: number | undefined): void {
    if (expectedRevision !== undefined && expectedRevision !== revision) {
      throw ApplicationFailure.create({
        type: REVISION_MISMATCH,
        message: `the referral has changed since revision ${expectedRevision}; it is now at revision ${revision}`,
        details: [{ state, revision, allowedActions: allowedActions(context()) }],
        nonRetryable: true,
      });
    }
    try {
      checkDecision(context(), action);
    } catch (e) {
      if (!(e instanceof DecisionRejected)) throw e;
      throw ApplicationFailure.create({
        type: e.reason === 'same-team' ? DECISION_SAME_TEAM : DECISION_NOT_ALLOWED,
        message: e.message,
        details: [{ state, revision, allowedActions: allowedActions(context()) }],
        nonRetryable: true,
      });
    }
  }

  // --- The request itself.
  const firstDue = v2 ? dueFor('gp-review') : undefined;
  const requested = await activities.recordRequested({ referralId, ...(firstDue ? { dueAt: firstDue.at } : {}) });
  timeline.push({ at: requested.at, state: 'requested', event: 'referral.requested.v1' });
  if (state === 'requested') {
    state = 'gp-review';
    epoch += 1;
    due = firstDue;
    startTimersFor('gp-review');
  }

  if (!v2) {
    const transfer = await activities.requestRecordsTransfer({ referralId });
    if (transfer.requested) timeline.push({ at: transfer.at, state, event: 'records.transfer-requested.v1' });
  }

  // Rule 10: an urgent referral with no appointment within its threshold is escalated, once.
  if (v2 && input.urgency === 'urgent' && policy.urgentEscalationMs) {
    const threshold = policy.urgentEscalationMs;
    const started = workflowInfo().startTime.getTime();
    void (async () => {
      if (await condition(() => appointmentBooked || isTerminal(state), threshold)) return;
      await exclusively(async () => {
        if (!appointmentBooked && !isTerminal(state)) {
          await activities.escalateUrgentWait({ referralId, waitedMs: now().getTime() - started, thresholdMs: threshold });
        }
      });
    })();
  }

  // --- Waits for decisions (Updates) and records-transfer outcomes (Signals) until the process ends.
  while (!isTerminal(state)) {
    await condition(() => isTerminal(state) || transferOutcomes.length > 0);
    for (let o = transferOutcomes.shift(); o; o = transferOutcomes.shift()) {
      const outcome = o;
      await exclusively(() => activities.recordTransferOutcome({ referralId, ...outcome }));
    }
  }
  await condition(allHandlersFinished);
}

const EVENT_TYPES: Record<DecisionAction['type'], string> = {
  refer: 'referral.referred.v1',
  decline: 'referral.gp-declined.v1',
  'triage-accept': 'referral.triage-accepted.v1',
  'triage-reject': 'referral.triage-rejected.v1',
  'request-info': 'referral.more-info-requested.v1',
  'provide-info': 'referral.more-info-provided.v1',
  'book-appointment': 'referral.appointment-booked.v1',
  'issue-opinion': 'referral.opinion-issued.v1',
  'inform-original-team': 'referral.original-team-informed.v1',
  'request-care-transfer': 'referral.care-transfer-requested.v1',
  'care-transfer-decision': 'referral.care-transferred.v1',
  withdraw: 'referral.withdrawn.v1',
};

const eventTypeOf = (a: DecisionAction): string =>
  a.type === 'care-transfer-decision' && !a.accept ? 'referral.care-retained.v1' : EVENT_TYPES[a.type];
