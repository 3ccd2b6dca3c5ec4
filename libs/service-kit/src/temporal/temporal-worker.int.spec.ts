import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { AesGcmPayloadCodec } from './payload-codec';
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';
import { TemporalWorkerRunner, WORKFLOW_STACK_TRACES_KEY } from './temporal-worker';
import { releaseSignal } from '../../test/waiting.workflow';

// The local Temporal server of infra/local (service-kit cannot use @sonet/testing: that library depends on this one).
const temporalAddress = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';

/**
 * The worker's workflow stack traces, against the real Temporal server: off by default (the patched SDK leaves out its
 * promise hook, patches/@temporalio+worker*), on when asked. Fails if the patch is not applied (the query would answer
 * with a stack trace when off) or if turning it on no longer works.
 */
describe('TemporalWorkerRunner: workflow stack traces', () => {
  const codec = new AesGcmPayloadCodec(randomBytes(32));
  let connection: Connection;
  let client: Client;
  const before = getEnvironmentData(WORKFLOW_STACK_TRACES_KEY);

  beforeAll(async () => {
    try {
      Runtime.install({ logger: new DefaultLogger('WARN') });
    } catch {
      // Already installed in this test file's module registry.
    }
    connection = await Connection.connect({ address: temporalAddress });
    client = new Client({ connection, dataConverter: { payloadCodecs: [codec] } });
  });

  afterAll(async () => {
    await connection.close();
    setEnvironmentData(WORKFLOW_STACK_TRACES_KEY, before);
  });

  /** Runs a worker with the setting, starts a waiting workflow, queries its stack trace, then lets it finish. */
  async function stackTraceQuery(workflowStackTraces: boolean | undefined): Promise<PromiseSettledResult<unknown>> {
    const taskQueue = `test-stack-traces-${randomBytes(5).toString('hex')}`;
    const runner = new TemporalWorkerRunner();
    await runner.start({
      address: temporalAddress,
      namespace: 'default',
      taskQueue,
      activities: {},
      codec,
      workflowsPath: require.resolve('../../test/waiting.workflow'),
      ...(workflowStackTraces === undefined ? {} : { workflowStackTraces }),
    });
    try {
      const handle = await client.workflow.start('waitingWorkflow', { taskQueue, workflowId: `${taskQueue}-wf` });
      const [answer] = await Promise.allSettled([handle.query<string>('__stack_trace')]);
      await handle.signal(releaseSignal);
      await expect(handle.result()).resolves.toBe('released');
      return answer;
    } finally {
      await runner.stop();
    }
  }

  it('answers that stack traces are off by default', async () => {
    const answer = await stackTraceQuery(undefined);
    expect(answer.status).toBe('rejected');
    expect(String((answer as PromiseRejectedResult).reason)).toMatch(/stack traces are not enabled/i);
  });

  it('answers with the workflow stack trace when they are on', async () => {
    const answer = await stackTraceQuery(true);
    expect(answer).toEqual({ status: 'fulfilled', value: expect.stringContaining('waitingWorkflow') });
  });
});
