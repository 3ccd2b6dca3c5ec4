// Shared between the workflow (deterministic sandbox) and the rest of the service: types and
// Temporal handles only, no Node built-ins and no service code.
import { defineQuery } from '@temporalio/workflow';
import type { ReferralState } from '../domain/referral-state';

export const SECOND_OPINION_TASK_QUEUE = 'second-opinion';
export const workflowIdFor = (referralId: string): string => `second-opinion/${referralId}`;

/** Workflow input: ids only. Patient identifiers never enter Temporal (it stores and shows payloads). */
export interface SecondOpinionInput {
  readonly referralId: string;
}

export interface WorkflowTimelineEntry {
  readonly at: string;
  readonly state: ReferralState;
  readonly event: string;
}

export interface SecondOpinionStatus {
  readonly referralId: string;
  readonly state: ReferralState;
  readonly timeline: readonly WorkflowTimelineEntry[];
}

export const statusQuery = defineQuery<SecondOpinionStatus>('status');

/** What the workflow may ask of the outside world; implemented in ../activities. */
export interface ReferralActivities {
  /** Records the request in the read model and emits referral.requested.v1; returns when it happened. */
  recordRequested(input: { referralId: string }): Promise<{ at: string }>;
  /** Emits records.transfer-requested.v1 if the patient consented to sharing records; says whether it did. */
  requestRecordsTransfer(input: { referralId: string }): Promise<{ requested: boolean; at: string }>;
}
