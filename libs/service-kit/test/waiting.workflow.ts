import { condition, defineSignal, setHandler } from '@temporalio/workflow';

/** Lets a waiting workflow finish. */
export const releaseSignal = defineSignal('release');

/** A workflow that waits for its signal: something for a stack trace query to look at. */
export async function waitingWorkflow(): Promise<string> {
  let released = false;
  setHandler(releaseSignal, () => void (released = true));
  await condition(() => released);
  return 'released';
}
