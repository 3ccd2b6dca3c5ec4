import { condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { ReferralState } from '../domain/referral-state';
import {
  statusQuery,
  type ReferralActivities,
  type SecondOpinionInput,
  type WorkflowTimelineEntry,
} from './definitions';

const activities = proxyActivities<ReferralActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * The long-running process of one second-opinion referral (workflow id `second-opinion/<referralId>`).
 * This skeleton records the request, asks for the records transfer and waits for the GP's decision;
 * the decisions themselves arrive as Updates (added with the full process).
 */
export async function secondOpinionWorkflow(input: SecondOpinionInput): Promise<void> {
  let state: ReferralState = 'requested';
  const timeline: WorkflowTimelineEntry[] = [];
  setHandler(statusQuery, () => ({ referralId: input.referralId, state, timeline }));

  const requested = await activities.recordRequested({ referralId: input.referralId });
  timeline.push({ at: requested.at, state: 'requested', event: 'referral.requested.v1' });
  state = 'gp-review';

  const transfer = await activities.requestRecordsTransfer({ referralId: input.referralId });
  if (transfer.requested) timeline.push({ at: transfer.at, state, event: 'records.transfer-requested.v1' });

  // Waits for the GP's decision; nothing ends the process yet.
  await condition(() => (state as ReferralState) === 'closed');
}
