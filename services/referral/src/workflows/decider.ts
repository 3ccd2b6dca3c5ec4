// The second-opinion state machine as pure functions: which decisions each state allows, and where each
// leads, read from the transition catalogue (./transitions) plus the rules that need more than the state
// (rules 3 and 9). The workflow and its update validators use it; so do the unit tests. No I/O, no Temporal imports.
import type { ReminderRecipient, ReminderStep } from '@sonet/contracts';
import type { ReferralState } from '../domain/referral-state';
import { decisionsAllowedIn, targetState, type ActionType, type DecisionAction, type TeamSnapshot } from './transitions';

export type { ActionType, DecisionAction, TeamSnapshot };

/** What the decider needs to know besides the state. */
export interface DecisionContext {
  readonly state: ReferralState;
  readonly originalTeamId: string;
  readonly originalTeamInformed: boolean;
  /** The team the GP referred to last (the one that rejected it, in rejected-by-team). */
  readonly targetTeamId?: string;
}

export const TERMINAL_STATES: readonly ReferralState[] = ['declined', 'withdrawn', 'closed'];
export const isTerminal = (s: ReferralState): boolean => TERMINAL_STATES.includes(s);

/** The decisions the current state allows, in a stable order (shown to callers in 409 answers). */
export function allowedActions(ctx: DecisionContext): ActionType[] {
  return decisionsAllowedIn(ctx.state).filter((a) => a !== 'inform-original-team' || !ctx.originalTeamInformed);
}

export class DecisionRejected extends Error {
  constructor(
    readonly reason: 'not-allowed-in-state' | 'same-team',
    message: string,
  ) {
    super(message);
    this.name = 'DecisionRejected';
  }
}

/** Throws DecisionRejected when the action may not happen now; used by the update's validator. */
export function checkDecision(ctx: DecisionContext, action: DecisionAction): void {
  if (!allowedActions(ctx).includes(action.type)) {
    throw new DecisionRejected('not-allowed-in-state', `${action.type} is not possible while the referral is ${ctx.state}`);
  }
  // Rule 3: the second opinion comes from a different team than the one that gave the first.
  if (action.type === 'refer' && action.targetTeam.teamId === ctx.originalTeamId) {
    throw new DecisionRejected('same-team', 'a second opinion must come from a different clinical team than the original one');
  }
  if (action.type === 'refer' && ctx.state === 'rejected-by-team' && action.targetTeam.teamId === ctx.targetTeamId) {
    throw new DecisionRejected('same-team', 'this team has just rejected the referral; choose another team');
  }
}

/** The state a decision leads to. Care decisions and withdrawal end the process. */
export function nextState(ctx: DecisionContext, action: DecisionAction): ReferralState {
  return targetState(action, ctx.state);
}

/** Steps with a due date while the referral waits in a state, and who is reminded. */
export type WaitingStep = ReminderStep;
const WAITING_STEP: Partial<Record<ReferralState, WaitingStep>> = {
  'gp-review': 'gp-decision',
  'rejected-by-team': 'gp-decision',
  'awaiting-triage': 'triage',
  'more-info-requested': 'more-info',
  accepted: 'booking',
  'appointment-booked': 'opinion',
};

export const waitingStepOf = (s: ReferralState): WaitingStep | undefined => WAITING_STEP[s];

export const reminderRecipient = (step: WaitingStep): ReminderRecipient =>
  step === 'gp-decision' || step === 'more-info' ? 'gp' : 'receiving-team';
