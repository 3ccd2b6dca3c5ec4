import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createTimeSkippingEnvironment } from './temporal';
import { eventually, uniqueSuffix } from './env';
import { approvalDeadlineWorkflow, approveSignal, outcomeQuery, sleeperWorkflow } from './test-workflows/sleeper.workflow';

const DAY = 24 * 60 * 60 * 1000;

/** Temporal's Java time-skipping test server, started by createTimeSkippingEnvironment (no Docker, no download). */
describe('time-skipping Temporal test environment', () => {
  const taskQueue = `test-time-skipping-${uniqueSuffix()}`;
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;

  beforeAll(async () => {
    env = await createTimeSkippingEnvironment();
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('./test-workflows/sleeper.workflow'),
    });
    running = worker.run();
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  /** Time skipped before the workflow has started its timer would not count against it. */
  const timerStarted = (handle: WorkflowHandle) =>
    eventually(async () => ((await handle.fetchHistory()).events?.some((e) => e.timerStartedEventAttributes) ? true : undefined), 20_000);

  it('runs a workflow that sleeps 30 days to completion in seconds of wall time', async () => {
    const wallStart = Date.now();
    const result = await env.client.workflow.execute(sleeperWorkflow, {
      taskQueue,
      workflowId: `sleeper-${randomUUID()}`,
      args: ['30 days'],
    });
    // Well under a second on an idle machine; 10-14 s measured with four CPU hogs on 2 cores (the first workflow
    // task builds the worker's sandbox). Any bound of seconds proves the 30 days were skipped, not waited.
    expect(Date.now() - wallStart).toBeLessThan(30_000);
    expect(result.wokeAt - result.startedAt).toBeGreaterThanOrEqual(30 * DAY);
  });

  it('fires a 7-day deadline timer only once env.sleep has skipped past it', async () => {
    const handle = await env.client.workflow.start(approvalDeadlineWorkflow, {
      taskQueue,
      workflowId: `deadline-${randomUUID()}`,
      args: ['7 days'],
    });
    await timerStarted(handle);

    await env.sleep('3 days');
    expect(await handle.query(outcomeQuery)).toBe('waiting');

    await env.sleep('5 days');
    // Not handle.result(): awaiting a result skips time by itself; this shows env.sleep alone fired the timer.
    await eventually(async () => ((await handle.describe()).status.name === 'COMPLETED' ? true : undefined), 20_000);
    expect(await handle.query(outcomeQuery)).toBe('timed-out');
    expect(await handle.result()).toBe('timed-out');
  });

  it('lets a signal win the race against the deadline timer', async () => {
    const handle = await env.client.workflow.start(approvalDeadlineWorkflow, {
      taskQueue,
      workflowId: `deadline-${randomUUID()}`,
      args: ['7 days'],
    });
    await timerStarted(handle);
    await env.sleep('6 days');
    await handle.signal(approveSignal);
    expect(await handle.result()).toBe('approved');
  });
});
