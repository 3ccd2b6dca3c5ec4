import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { createTimeSkippingEnvironment, eventually } from '@sonet/testing';
import { timerPolicyFor } from '../domain/timer-policy';
import type { DecisionAction } from './decider';
import { decisionUpdate, statusQuery, workflowIdFor, type Actor, type ReferralActivities } from './definitions';
import { secondOpinionWorkflow } from './second-opinion.workflow';

/**
 * Timers with time skipping (a Temporal test server whose clock jumps): reminders before each due step and
 * when overdue, the urgent-wait escalation (rule 10), closing after the opinion, and withdrawal stopping them.
 */
describe('SecondOpinionWorkflow timers', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = 'timers';
  const calls: { referralId: string; name: string; input: Record<string, unknown> }[] = [];
  const recorder = (name: string) => async (input: { referralId: string }) => {
    calls.push({ referralId: input.referralId, name, input: input as Record<string, unknown> });
  };
  const at = () => new Date().toISOString();
  const activities: ReferralActivities = {
    recordRequested: async (i) => (await recorder('recordRequested')(i), { at: at() }),
    requestRecordsTransfer: async (i) => (await recorder('requestRecordsTransfer')(i), { requested: false, at: at() }),
    recordTransition: async (i) => (await recorder('recordTransition')(i), { at: at() }),
    remind: recorder('remind'),
    escalateUrgentWait: recorder('escalateUrgentWait'),
    cancelRecordsTransfer: recorder('cancelRecordsTransfer'),
    recordTransferOutcome: recorder('recordTransferOutcome'),
  };
  const of = (referralId: string, name: string) => calls.filter((c) => c.referralId === referralId && c.name === name).map((c) => c.input);

  beforeAll(async () => {
    env = await createTimeSkippingEnvironment();
    worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowsPath: require.resolve('./index'), activities });
    running = worker.run();
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  const gp: Actor = { role: 'gp', organisation: 'A81001' };
  const team: Actor = { role: 'clinician', organisation: 'RTH' };
  const start = async (urgency: 'routine' | 'urgent') => {
    const referralId = randomUUID();
    const handle = await env.client.workflow.start(secondOpinionWorkflow, {
      taskQueue,
      workflowId: workflowIdFor(referralId),
      args: [{ referralId, urgency, originalTeamId: 'RJ122-CARD', policy: timerPolicyFor(urgency, 'cardiology', {}) }],
    });
    await eventually(async () => ((await handle.query(statusQuery)).state === 'gp-review' ? true : undefined));
    return { referralId, handle };
  };
  const decide = (handle: Awaited<ReturnType<typeof start>>['handle'], action: DecisionAction, actor: Actor) =>
    handle.executeUpdate(decisionUpdate, { args: [{ action, actor }] });
  const refer = {
    type: 'refer',
    targetTeam: { teamId: 'RTH01-CARD', ods: 'RTH01', name: 'Cardiology', siteName: 'County General' },
  } as const;

  it('reminds the GP before the decision is due, and again when it is overdue', async () => {
    const { referralId, handle } = await start('routine');
    await env.sleep('10 days');
    expect(of(referralId, 'remind')).toEqual([]);
    await env.sleep('2 days'); // day 12: the reminder goes 3 days before day 14
    await eventually(async () => (of(referralId, 'remind').length === 1 ? true : undefined));
    expect(of(referralId, 'remind')[0]).toMatchObject({ step: 'gp-decision', overdue: false });
    await env.sleep('3 days'); // day 15: overdue
    await eventually(async () => (of(referralId, 'remind').length === 2 ? true : undefined));
    expect(of(referralId, 'remind')[1]).toMatchObject({ step: 'gp-decision', overdue: true });
    await handle.terminate('test done');
  });

  it('stops the GP reminders once the GP has decided, and starts the triage ones', async () => {
    const { referralId, handle } = await start('routine');
    await env.sleep('1 day');
    await decide(handle, refer, gp);
    await env.sleep('20 days');
    await eventually(async () => (of(referralId, 'remind').length === 2 ? true : undefined));
    expect(of(referralId, 'remind').map((r) => r.step)).toEqual(['triage', 'triage']);
    await handle.terminate('test done');
  });

  it('rule 10: escalates an urgent referral with no appointment within its threshold to the original team and GP, once', async () => {
    const { referralId, handle } = await start('urgent');
    await decide(handle, refer, gp);
    await decide(handle, { type: 'triage-accept' }, team);
    await env.sleep('13 days');
    expect(of(referralId, 'escalateUrgentWait')).toEqual([]);
    await env.sleep('2 days');
    await eventually(async () => (of(referralId, 'escalateUrgentWait').length === 1 ? true : undefined));
    expect(of(referralId, 'escalateUrgentWait')[0]).toMatchObject({ thresholdMs: 14 * 24 * 3600 * 1000 });
    await env.sleep('30 days');
    expect(of(referralId, 'escalateUrgentWait')).toHaveLength(1);
    await handle.terminate('test done');
  });

  it('rule 10: does not escalate an urgent referral whose appointment was booked in time', async () => {
    const { referralId, handle } = await start('urgent');
    await decide(handle, refer, gp);
    await decide(handle, { type: 'triage-accept' }, team);
    await decide(handle, { type: 'book-appointment', appointmentAt: '2026-12-01T10:00:00.000Z', site: { ods: 'RTH01', name: 'x' } }, team);
    await env.sleep('20 days');
    expect(of(referralId, 'escalateUrgentWait')).toEqual([]);
    await handle.terminate('test done');
  });

  it('closes the process 30 days after the opinion when no care transfer was asked for', async () => {
    const { referralId, handle } = await start('routine');
    await decide(handle, refer, gp);
    await decide(handle, { type: 'triage-accept' }, team);
    await decide(handle, { type: 'book-appointment', appointmentAt: '2026-12-01T10:00:00.000Z', site: { ods: 'RTH01', name: 'x' } }, team);
    await decide(handle, { type: 'issue-opinion', outcome: 'concurs', summary: 's', shareWithOriginalTeam: false }, team);
    await handle.result(); // the test server skips time while the result is awaited
    const last = of(referralId, 'recordTransition').at(-1);
    expect(last).toMatchObject({ toState: 'closed', action: { type: 'close', outcome: 'opinion-given' } });
  });

  it('stops every timer when the referral is withdrawn', async () => {
    const { referralId, handle } = await start('urgent');
    await decide(handle, refer, gp);
    await decide(handle, { type: 'withdraw' }, gp);
    await handle.result();
    await env.sleep('60 days');
    expect(of(referralId, 'remind')).toEqual([]);
    expect(of(referralId, 'escalateUrgentWait')).toEqual([]);
  });
});
