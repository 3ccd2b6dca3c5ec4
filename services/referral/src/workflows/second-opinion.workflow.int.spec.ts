import { Client, Connection, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { randomBytes, randomUUID } from 'node:crypto';
import { eventually, integrationSettings, quietTemporalRuntime, uniqueSuffix } from '@sonet/testing';
import { AesGcmPayloadCodec } from '@sonet/service-kit';
import { timerPolicyFor } from '../domain/timer-policy';
import type { DecisionAction } from './decider';
import {
  decisionUpdate,
  DECISION_NOT_ALLOWED,
  recordsTransferOutcomeSignal,
  REVISION_MISMATCH,
  statusQuery,
  workflowIdFor,
  type Actor,
  type ReferralActivities,
  type TransitionRecord,
} from './definitions';
import { secondOpinionWorkflow } from './second-opinion.workflow';

/** The workflow against the real Temporal server; activities replaced by recorders; payloads encrypted. */
describe('SecondOpinionWorkflow', () => {
  const taskQueue = `test-second-opinion-${uniqueSuffix()}`;
  const codec = new AesGcmPayloadCodec(randomBytes(32));
  const calls = new Map<string, { name: string; input: unknown }[]>();
  /** Referrals whose transitions take a while to record, so that decisions queue behind them. */
  const slow = new Set<string>();
  /** Referrals whose request takes a while to record: the workflow stays in `requested` meanwhile. */
  const slowStart = new Set<string>();
  const record = (referralId: string, name: string, input: unknown) =>
    calls.set(referralId, [...(calls.get(referralId) ?? []), { name, input }]);
  const at = () => new Date().toISOString();
  const activities: ReferralActivities = {
    recordRequested: async (i) => {
      if (slowStart.has(i.referralId)) await new Promise((r) => setTimeout(r, 300));
      return (record(i.referralId, 'recordRequested', i), { at: at() });
    },
    requestRecordsTransfer: async (i) => {
      record(i.referralId, 'requestRecordsTransfer', i);
      return { requested: true, at: at(), transferId: randomUUID() };
    },
    recordTransition: async (i) => {
      record(i.referralId, 'recordTransition started', i);
      if (slow.has(i.referralId)) await new Promise((r) => setTimeout(r, 500));
      return (record(i.referralId, 'recordTransition', i), { at: at() });
    },
    remind: async (i) => void record(i.referralId, 'remind', i),
    escalateUrgentWait: async (i) => void record(i.referralId, 'escalateUrgentWait', i),
    cancelRecordsTransfer: async (i) => void record(i.referralId, 'cancelRecordsTransfer', i),
    recordTransferOutcome: async (i) => void record(i.referralId, 'recordTransferOutcome', i),
  };
  const transitions = (id: string) =>
    (calls.get(id) ?? []).filter((c) => c.name === 'recordTransition').map((c) => c.input as TransitionRecord);
  const named = (id: string, name: string) => (calls.get(id) ?? []).filter((c) => c.name === name);

  let worker: Worker;
  let running: Promise<void>;
  let client: Client;
  let rawClient: Client;
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
      dataConverter: { payloadCodecs: [codec] },
    });
    running = worker.run();
    const connection = await Connection.connect({ address: temporalAddress });
    client = new Client({ connection, dataConverter: { payloadCodecs: [codec] } });
    rawClient = new Client({ connection });
  });

  afterAll(async () => {
    worker.shutdown();
    await running;
    await nativeConnection.close();
    await client.connection.close();
  });

  const gp: Actor = { role: 'gp', organisation: 'A81001' };
  const team: Actor = { role: 'clinician', organisation: 'RTH' };
  const patient: Actor = { role: 'patient', organisation: 'A81001' };
  const target = (teamId: string) => ({ teamId, ods: 'RTH01', name: 'Cardiology', siteName: 'County General', distanceKm: 12.3 });

  const start = async (urgency: 'routine' | 'urgent' = 'routine') => {
    const referralId = randomUUID();
    const handle = await client.workflow.start(secondOpinionWorkflow, {
      taskQueue,
      workflowId: workflowIdFor(referralId),
      args: [{ referralId, urgency, originalTeamId: 'RJ122-CARD', policy: timerPolicyFor(urgency, 'cardiology', {}) }],
    });
    await eventually(async () => ((await handle.query(statusQuery)).state === 'gp-review' ? true : undefined));
    return { referralId, handle };
  };
  const decide = (handle: WorkflowHandle, action: DecisionAction, actor: Actor, expectedRevision?: number) =>
    handle.executeUpdate(decisionUpdate, { args: [{ action, actor, ...(expectedRevision !== undefined ? { expectedRevision } : {}) }] });
  const refusal = async (p: Promise<unknown>): Promise<ApplicationFailure> => {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((e as WorkflowUpdateFailedError).cause).toBeInstanceOf(ApplicationFailure);
    return (e as WorkflowUpdateFailedError).cause as ApplicationFailure;
  };

  it('walks a referral from request to closed, one recorded transition per decision', async () => {
    const { referralId, handle } = await start();
    const steps: [DecisionAction, Actor, string][] = [
      [{ type: 'refer', targetTeam: target('RTH01-CARD') }, gp, 'awaiting-triage'],
      [{ type: 'triage-accept' }, team, 'accepted'],
      [
        { type: 'book-appointment', appointmentAt: '2026-12-01T10:00:00.000Z', site: { ods: 'RTH01', name: 'County General' } },
        team,
        'appointment-booked',
      ],
      [
        { type: 'issue-opinion', outcome: 'concurs', summary: 'the first opinion stands', shareWithOriginalTeam: true },
        team,
        'opinion-issued',
      ],
      [{ type: 'request-care-transfer' }, patient, 'care-transfer-requested'],
      [{ type: 'care-transfer-decision', accept: true }, team, 'closed'],
    ];
    let revision = 0;
    for (const [action, actor, state] of steps) {
      const status = await decide(handle, action, actor, revision);
      expect(status.state).toBe(state);
      revision = status.revision;
    }
    await handle.result();
    expect(transitions(referralId).map((t) => t.toState)).toEqual([
      'awaiting-triage',
      'accepted',
      'appointment-booked',
      'opinion-issued',
      'care-transfer-requested',
      'care-transferred',
      'closed',
    ]);
    // Rule 4: the records follow the referral to the team the GP chose.
    expect(named(referralId, 'requestRecordsTransfer').map((c) => (c.input as { target?: { teamId: string } }).target?.teamId)).toEqual([
      'RTH01-CARD',
    ]);
  });

  it('refuses a decision the state does not allow before anything is recorded, naming the allowed actions', async () => {
    const { referralId, handle } = await start();
    const failure = await refusal(decide(handle, { type: 'triage-accept' }, team));
    expect(failure.type).toBe(DECISION_NOT_ALLOWED);
    expect(failure.details?.[0]).toMatchObject({
      state: 'gp-review',
      allowedActions: ['refer', 'decline', 'inform-original-team', 'withdraw'],
    });
    expect(transitions(referralId)).toEqual([]);
    await handle.terminate('test done');
  });

  it('refuses a decision made on a revision that is no longer current (If-Match)', async () => {
    const { handle } = await start();
    await decide(handle, { type: 'inform-original-team' }, patient, 0);
    const failure = await refusal(decide(handle, { type: 'decline', reason: 'x' }, gp, 0));
    expect(failure.type).toBe(REVISION_MISMATCH);
    await handle.terminate('test done');
  });

  it('takes a decision sent right after the start (request not yet recorded) once the request is recorded, never refusing it', async () => {
    for (let n = 0; n < 10; n++) {
      const referralId = randomUUID();
      if (n % 2 === 0) slowStart.add(referralId);
      // As POST /v1/referrals then its gp-decision: start, then the Update at once, before the first workflow task.
      const handle = await client.workflow.start(secondOpinionWorkflow, {
        taskQueue,
        workflowId: workflowIdFor(referralId),
        args: [{ referralId, urgency: 'routine', originalTeamId: 'RJ122-CARD', policy: timerPolicyFor('routine', 'cardiology', {}) }],
      });
      const status = await decide(handle, { type: 'refer', targetTeam: target('RTH01-CARD') }, gp);
      expect(status.state).toBe('awaiting-triage');
      expect(named(referralId, 'recordRequested')).toHaveLength(1);
      expect(transitions(referralId).map((t) => [t.fromState, t.toState])).toEqual([['gp-review', 'awaiting-triage']]);
    }
  });

  it('still refuses a decision that comes before the request is recorded and would not be allowed after it', async () => {
    const referralId = randomUUID();
    slowStart.add(referralId);
    const handle = await client.workflow.start(secondOpinionWorkflow, {
      taskQueue,
      workflowId: workflowIdFor(referralId),
      args: [{ referralId, urgency: 'routine', originalTeamId: 'RJ122-CARD', policy: timerPolicyFor('routine', 'cardiology', {}) }],
    });
    const failure = await refusal(decide(handle, { type: 'triage-accept' }, team));
    expect(failure.type).toBe(DECISION_NOT_ALLOWED);
    // Validated before the request's step (the Update came with the first workflow task) or after it (the step,
    // a local activity, completes within the task the Update then waits behind): refused either way.
    expect(['requested', 'gp-review']).toContain((failure.details?.[0] as { state: string }).state);
  });

  it('takes decisions that arrive together one at a time, each checked against the state the previous one left', async () => {
    const { referralId, handle } = await start();
    slow.add(referralId);
    const first = decide(handle, { type: 'inform-original-team' }, patient);
    await eventually(async () => (named(referralId, 'recordTransition started').length ? true : undefined));
    // Both wait for the first; whichever goes next (their order is not fixed) leaves a state the other is not allowed in.
    const [refer, decline] = await Promise.allSettled([
      decide(handle, { type: 'refer', targetTeam: target('RTH01-CARD') }, gp),
      decide(handle, { type: 'decline', reason: 'no new information' }, gp),
    ]);
    await first;
    expect([refer.status, decline.status].sort()).toEqual(['fulfilled', 'rejected']);
    expect(transitions(referralId).map((t) => [t.revision, t.toState])).toEqual([
      [1, 'gp-review'],
      [2, refer.status === 'fulfilled' ? 'awaiting-triage' : 'declined'],
    ]);
    if (refer.status === 'fulfilled') await handle.terminate('test done');
  });

  it('rule 5: keeps the original team responsible until a care transfer is accepted', async () => {
    const { handle } = await start();
    await decide(handle, { type: 'refer', targetTeam: target('RTH01-CARD') }, gp);
    await decide(handle, { type: 'triage-accept' }, team);
    expect((await handle.query(statusQuery)).responsibleTeam).toBe('original');
    await decide(handle, { type: 'book-appointment', appointmentAt: '2026-12-01T10:00:00.000Z', site: { ods: 'RTH01', name: 'x' } }, team);
    await decide(handle, { type: 'issue-opinion', outcome: 'differs', summary: 's', shareWithOriginalTeam: false }, team);
    await decide(handle, { type: 'request-care-transfer' }, patient);
    expect((await handle.query(statusQuery)).responsibleTeam).toBe('original');
    await decide(handle, { type: 'care-transfer-decision', accept: false, reason: 'no capacity' }, team);
    expect((await handle.query(statusQuery)).responsibleTeam).toBe('original');
  });

  it('rule 6: after a team rejects it, the GP refers to another team and the records follow the new team', async () => {
    const { referralId, handle } = await start();
    await decide(handle, { type: 'refer', targetTeam: target('RTH01-CARD') }, gp);
    const rejected = await decide(handle, { type: 'triage-reject', reason: 'not our specialty' }, team);
    expect(rejected.state).toBe('rejected-by-team');
    expect(rejected.allowedActions).toContain('refer');
    await decide(handle, { type: 'refer', targetTeam: target('RXF05-CARD') }, gp);
    expect(named(referralId, 'cancelRecordsTransfer')).toHaveLength(1);
    expect(named(referralId, 'requestRecordsTransfer').map((c) => (c.input as { target?: { teamId: string } }).target?.teamId)).toEqual([
      'RTH01-CARD',
      'RXF05-CARD',
    ]);
    expect(transitions(referralId).at(-1)?.attempt).toBe(2);
    await handle.terminate('test done');
  });

  it('ends on withdrawal mid-way, cancelling the records transfer, and accepts no more decisions', async () => {
    const { referralId, handle } = await start();
    await decide(handle, { type: 'refer', targetTeam: target('RTH01-CARD') }, gp);
    const status = await decide(handle, { type: 'withdraw', reason: 'feeling better' }, patient);
    expect(status.state).toBe('withdrawn');
    await handle.result();
    expect(named(referralId, 'cancelRecordsTransfer')).toHaveLength(1);
    await expect(decide(handle, { type: 'triage-accept' }, team)).rejects.toThrow();
  });

  it("records the records transfer's outcome when records-transfer reports it", async () => {
    const { referralId, handle } = await start();
    await decide(handle, { type: 'refer', targetTeam: target('RTH01-CARD') }, gp);
    await handle.signal(recordsTransferOutcomeSignal, { transferId: randomUUID(), outcome: 'completed' });
    await eventually(async () => (named(referralId, 'recordTransferOutcome').length === 1 ? true : undefined));
    await handle.terminate('test done');
  });

  it("keeps decision free text out of Temporal's readable history (payloads are encrypted)", async () => {
    const { referralId, handle } = await start();
    const secret = `suspected lupus ${uniqueSuffix()}`;
    await decide(handle, { type: 'decline', reason: secret }, gp);
    await handle.result();
    const raw = JSON.stringify(await rawClient.workflow.getHandle(workflowIdFor(referralId)).fetchHistory());
    expect(raw).not.toContain(secret);
    expect(raw).not.toContain('suspected');
    // Readable to the service itself (the same key), so nothing is lost.
    expect(transitions(referralId)[0]?.action).toMatchObject({ type: 'decline', reason: secret });
  });
});
