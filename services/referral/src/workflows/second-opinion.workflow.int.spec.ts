import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { integrationSettings, eventually, quietTemporalRuntime, uniqueSuffix } from '@sonet/testing';
import { statusQuery, workflowIdFor, type ReferralActivities } from './definitions';
import { secondOpinionWorkflow } from './second-opinion.workflow';

/** The workflow against the real Temporal server, with its activities replaced by recorders. */
describe('SecondOpinionWorkflow', () => {
  const taskQueue = `test-second-opinion-${uniqueSuffix()}`;
  const calls: { name: string; referralId: string }[] = [];
  let consent = true;
  const activities: ReferralActivities = {
    recordRequested: async ({ referralId }) => {
      calls.push({ name: 'recordRequested', referralId });
      return { at: new Date().toISOString() };
    },
    requestRecordsTransfer: async ({ referralId }) => {
      calls.push({ name: 'requestRecordsTransfer', referralId });
      return { requested: consent, at: new Date().toISOString() };
    },
  };
  let worker: Worker;
  let running: Promise<void>;
  let client: Client;
  let nativeConnection: NativeConnection;

  beforeAll(async () => {
    quietTemporalRuntime();
    const { temporalAddress } = integrationSettings();
    nativeConnection = await NativeConnection.connect({ address: temporalAddress });
    worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('./index'),
      activities,
    });
    running = worker.run();
    client = new Client({ connection: await Connection.connect({ address: temporalAddress }) });
  });

  afterAll(async () => {
    worker.shutdown();
    await running;
    await nativeConnection.close();
    await client.connection.close();
  });

  const start = async () => {
    const referralId = randomUUID();
    const handle = await client.workflow.start(secondOpinionWorkflow, {
      taskQueue,
      workflowId: workflowIdFor(referralId),
      args: [{ referralId }],
    });
    return { referralId, handle };
  };

  it('records the request, asks for the records and waits for the GP in gp-review', async () => {
    const { referralId, handle } = await start();
    const status = await eventually(async () => {
      const s = await handle.query(statusQuery);
      return s.state === 'gp-review' && s.timeline.length === 2 ? s : undefined;
    });
    expect(status.timeline.map((t) => t.event)).toEqual(['referral.requested.v1', 'records.transfer-requested.v1']);
    expect(calls.filter((c) => c.referralId === referralId).map((c) => c.name)).toEqual(['recordRequested', 'requestRecordsTransfer']);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    await handle.terminate('test done');
  });

  it('rule 4: shows no records transfer in the timeline when the patient did not consent', async () => {
    consent = false;
    try {
      const { handle } = await start();
      const status = await eventually(async () => {
        const s = await handle.query(statusQuery);
        return s.state === 'gp-review' ? s : undefined;
      });
      expect(status.timeline.map((t) => t.event)).toEqual(['referral.requested.v1']);
      await handle.terminate('test done');
    } finally {
      consent = true;
    }
  });

  it('carries only the referral id in its input: no patient identifiers reach Temporal', async () => {
    const { referralId, handle } = await start();
    await eventually(async () => ((await handle.query(statusQuery)).state === 'gp-review' ? true : undefined));
    const history = JSON.stringify(await handle.fetchHistory());
    const started = (await handle.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
    const input = Buffer.from(started?.input?.payloads?.[0]?.data ?? new Uint8Array()).toString('utf8');
    expect(JSON.parse(input)).toEqual({ referralId });
    expect(history).not.toMatch(/nhsNumber|email/);
    await handle.terminate('test done');
  });
});
