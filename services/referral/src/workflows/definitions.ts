// Shared between the workflow (deterministic sandbox) and the rest of the service: types and Temporal
// handles only, no Node built-ins and no service code.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Actor, Urgency } from '@sonet/contracts';
import type { ReferralState } from '../domain/referral-state';
import type { WaitingStep } from './decider';
import type { ActionType, DecisionAction, TeamSnapshot, TransitionAction } from './transitions';

export const workflowIdFor = (referralId: string): string => `second-opinion/${referralId}`;

/** Due time of a waiting step and how long before it the reminder goes. */
export interface StepTiming {
  readonly dueMs: number;
  readonly reminderBeforeMs: number;
}

/** Timer durations for one referral, chosen at start from its urgency and specialty (config defaults). */
export interface TimerPolicy {
  readonly steps: Readonly<Record<WaitingStep, StepTiming>>;
  /** Rule 10: an urgent referral with no appointment by then is escalated. Unset for routine referrals. */
  readonly urgentEscalationMs?: number;
  /** After the opinion, the process closes if no care transfer was asked for by then. */
  readonly closeAfterOpinionMs: number;
}

/**
 * Workflow input: ids and timings only. Patient identifiers never enter Temporal (it stores and shows
 * payloads); free text in decisions is encrypted by the payload codec.
 */
export interface SecondOpinionInput {
  readonly referralId: string;
  readonly urgency?: Urgency;
  readonly originalTeamId?: string;
  readonly policy?: TimerPolicy;
}

/** Who took a decision: the events' actor (role and organisation, never a person). */
export type { Actor };

export interface WorkflowTimelineEntry {
  readonly at: string;
  readonly state: ReferralState;
  readonly event: string;
}

export interface SecondOpinionStatus {
  readonly referralId: string;
  readonly state: ReferralState;
  /** Increases with every recorded decision; the HTTP API's ETag. */
  readonly revision: number;
  readonly allowedActions: readonly ActionType[];
  readonly responsibleTeam: 'original' | 'receiving';
  readonly dueAt?: string;
  readonly dueStep?: WaitingStep;
  readonly timeline: readonly WorkflowTimelineEntry[];
}

export interface DecisionRequest {
  readonly action: DecisionAction;
  readonly actor: Actor;
  /** If-Match: the revision the caller saw; the decision is refused if the referral has moved on. */
  readonly expectedRevision?: number;
  /** W3C trace context of the HTTP request that took the decision: its events continue that trace. */
  readonly traceparent?: string;
}

export const statusQuery = defineQuery<SecondOpinionStatus>('status');
/** Every human decision, validated before it is recorded; answers the new status. */
export const decisionUpdate = defineUpdate<SecondOpinionStatus, [DecisionRequest]>('decision');
/** Outcome of the records transfer, from records-transfer's events via the Kafka consumer. */
export const recordsTransferOutcomeSignal =
  defineSignal<[{ transferId: string; outcome: 'completed' | 'failed'; reason?: string }]>('recordsTransferOutcome');

/** Error types the update validator throws; the HTTP layer maps them to 409 / 412. */
export const DECISION_NOT_ALLOWED = 'DecisionNotAllowed';
export const DECISION_SAME_TEAM = 'DecisionSameTeam';
export const REVISION_MISMATCH = 'RevisionMismatch';

/** A transition the activity records: read model, timeline and event in one transaction. */
export interface TransitionRecord {
  readonly referralId: string;
  /** Position in the workflow's history of transitions; with the workflow id it derives the event id. */
  readonly seq: number;
  readonly fromState: ReferralState;
  readonly toState: ReferralState;
  readonly revision: number;
  readonly actor: Actor;
  readonly action: TransitionAction;
  readonly dueAt?: string;
  readonly dueStep?: WaitingStep;
  /** How many teams have been asked (1 for the first referral). */
  readonly attempt: number;
  /** Trace of the request that caused the transition (absent for timers: the referral's own trace is used). */
  readonly traceparent?: string;
}

/** What the workflow may ask of the outside world; implemented in ../activities. */
export interface ReferralActivities {
  /** Records the request in the read model and emits referral.requested.v2 (patient sealed, ADR 14); returns when it happened. */
  recordRequested(input: { referralId: string; dueAt?: string }): Promise<{ at: string }>;
  /** Emits records.transfer-requested.v2 (NHS number sealed) if the patient consented to sharing records; says whether it did. */
  requestRecordsTransfer(input: {
    referralId: string;
    target?: TeamSnapshot;
    traceparent?: string;
  }): Promise<{ requested: boolean; at: string; transferId?: string }>;
  /** Records a decision or a system transition: read model, timeline entry and event, in one transaction. */
  recordTransition(input: TransitionRecord): Promise<{ at: string }>;
  /** Emits referral.reminder-due.v1 (before a due time, or when overdue). */
  remind(input: { referralId: string; seq: number; step: WaitingStep; dueAt: string; overdue: boolean }): Promise<void>;
  /** Rule 10: emits referral.urgent-wait-escalated.v1. */
  escalateUrgentWait(input: { referralId: string; waitedMs: number; thresholdMs: number }): Promise<void>;
  /** Emits records.transfer-cancel-requested.v1 for a transfer that should stop. */
  cancelRecordsTransfer(input: { referralId: string; transferId: string; reason: string; traceparent?: string }): Promise<void>;
  /** Notes the records transfer's outcome in the timeline. */
  recordTransferOutcome(input: { referralId: string; transferId: string; outcome: 'completed' | 'failed'; reason?: string }): Promise<void>;
}

export type { ActionType, DecisionAction, TeamSnapshot, TransitionAction, WaitingStep };
