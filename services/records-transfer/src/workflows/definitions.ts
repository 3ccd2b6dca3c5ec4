import { defineSignal } from '@temporalio/workflow';

export const RECORDS_TRANSFER_TASK_QUEUE = 'records-transfer';
export const transferWorkflowId = (transferId: string): string => `records-transfer/${transferId}`;

export interface RecordsTransferInput {
  readonly transferId: string;
  /** How long the built manifest waits for the GP's review before sending (0: send at once). */
  readonly reviewHoldMs: number;
  /** Attempts per item before the transfer fails (transient errors: 5xx, resets, time-outs). */
  readonly maxAttemptsPerItem: number;
  /** An activity that sends no heartbeat for this long is taken as lost (its worker died) and retried. */
  readonly heartbeatTimeoutMs: number;
}

export type RecordsTransferOutcome = 'completed' | 'failed' | 'refused' | 'cancelled';

/** The GP finished reviewing the manifest: send now rather than at the end of the hold. */
export const releaseManifestSignal = defineSignal('releaseManifest');

/** Activities the workflow calls; each is idempotent (a retry finds what the previous attempt did). */
export interface RecordsTransferActivities {
  /** Rule 4: no lawful basis recorded → refused (and nothing read). Says where the transfer stands. */
  admit(input: { transferId: string }): Promise<{ next: 'discover' | 'send' | 'refused' | 'finished' }>;
  /** Searches the source EHR and PACS, builds the manifest and the gaps; moves the transfer to `review`. */
  discover(input: { transferId: string }): Promise<{ items: number; relevant: number; gaps: number }>;
  /** Moves the transfer to `sending` and returns the manifest items still to send, in order. */
  beginSending(input: { transferId: string }): Promise<{ itemIds: string[] }>;
  /** Sends one item and confirms it at the target (resumes where an earlier attempt stopped). */
  sendItem(input: { transferId: string; itemId: string }): Promise<{ status: 'acknowledged' | 'refused' | 'missing' | 'excluded' }>;
  /** Reports the gaps and the outcome: completed. */
  complete(input: { transferId: string }): Promise<void>;
  /** Records the failure with its reason; operations can retry. */
  fail(input: { transferId: string; reason: string }): Promise<void>;
  /** Records the cancellation; what was sent stays recorded as sent. */
  cancel(input: { transferId: string }): Promise<void>;
}
