import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import {
  releaseManifestSignal,
  type RecordsTransferActivities,
  type RecordsTransferInput,
  type RecordsTransferOutcome,
} from './definitions';

/**
 * Moves one referral's relevant records from the original trust to the receiving one (rule 4): check the lawful
 * basis, find the records and build the manifest, hold it for the GP's review, send each item and confirm it at the
 * target, report gaps, and end completed, failed (operations may retry: a new run resumes at the first item not yet
 * confirmed) or cancelled. Bytes never pass through here: activities stream them between the hospitals and
 * return ids and statuses.
 */
export async function recordsTransferWorkflow(input: RecordsTransferInput): Promise<RecordsTransferOutcome> {
  const steps = proxyActivities<RecordsTransferActivities>({
    startToCloseTimeout: '5 minutes',
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '30 seconds',
      maximumAttempts: 10,
      nonRetryableErrorTypes: ['PermanentHttpError', 'UnknownOrganisationError', 'MultipartFramingError'],
    },
  });
  const sender = proxyActivities<RecordsTransferActivities>({
    startToCloseTimeout: '6 hours',
    heartbeatTimeout: input.heartbeatTimeoutMs,
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '30 seconds',
      maximumAttempts: input.maxAttemptsPerItem,
      nonRetryableErrorTypes: ['PermanentHttpError', 'UnknownOrganisationError', 'ItemNotInManifest'],
    },
  });

  let released = false;
  setHandler(releaseManifestSignal, () => {
    released = true;
  });

  const { transferId } = input;
  try {
    const { next } = await steps.admit({ transferId });
    if (next === 'refused') return 'refused';
    if (next === 'finished') return 'completed';
    if (next === 'discover') {
      await steps.discover({ transferId });
      if (input.reviewHoldMs > 0) await condition(() => released, input.reviewHoldMs);
    }
    const { itemIds } = await steps.beginSending({ transferId });
    for (const itemId of itemIds) {
      await sender.sendItem({ transferId, itemId });
    }
    await steps.complete({ transferId });
    return 'completed';
  } catch (e) {
    if (isCancellation(e)) {
      await CancellationScope.nonCancellable(() => steps.cancel({ transferId }));
      return 'cancelled';
    }
    if (e instanceof ActivityFailure) {
      await steps.fail({ transferId, reason: reasonOf(e) });
      return 'failed';
    }
    throw e;
  }
}

/** The failure's own message (no stack), bounded: it is shown to operations and published. */
function reasonOf(e: ActivityFailure): string {
  const cause = e.cause;
  const message = cause instanceof ApplicationFailure ? `${cause.type ?? 'Error'}: ${cause.message}` : (cause?.message ?? e.message);
  return message.slice(0, 400);
}
