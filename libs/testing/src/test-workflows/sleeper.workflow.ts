// Workflows for the time-skipping tests. They run in Temporal's workflow sandbox: @temporalio/workflow only.
import { condition, defineQuery, defineSignal, setHandler, sleep } from '@temporalio/workflow';

/** Sleeps for `duration` of workflow time and reports the workflow clock before and after. */
export async function sleeperWorkflow(duration: string): Promise<{ startedAt: number; wokeAt: number }> {
  const startedAt = Date.now();
  await sleep(duration);
  return { startedAt, wokeAt: Date.now() };
}

export const approveSignal = defineSignal('approve');
export const outcomeQuery = defineQuery<'waiting' | 'approved' | 'timed-out'>('outcome');

/** Waits for an approval signal, but no longer than `deadline`: a timer racing a signal. */
export async function approvalDeadlineWorkflow(deadline: string): Promise<'approved' | 'timed-out'> {
  let approved = false;
  let outcome: 'waiting' | 'approved' | 'timed-out' = 'waiting';
  setHandler(approveSignal, () => {
    approved = true;
  });
  setHandler(outcomeQuery, () => outcome);
  outcome = (await condition(() => approved, deadline)) ? 'approved' : 'timed-out';
  return outcome;
}
