// Records a workflow history fixture for the replay test: runs SecondOpinionWorkflow from the current sources
// on the local Temporal server with stand-in activities, walks it through decisions, and writes the history.
//   node dist/services/referral/src/tools/record-workflow-history.js <name>   (after `npm run build`)
// Record a new fixture before each change to the workflow's logic; keep the old ones.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { timerPolicyFor } from '../domain/timer-policy';
import { decisionUpdate, statusQuery, type Actor, type DecisionAction, type ReferralActivities } from '../workflows/definitions';

async function main(name: string): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const taskQueue = `record-history-${randomUUID()}`;
  const at = () => new Date().toISOString();
  const activities: ReferralActivities = {
    recordRequested: async () => ({ at: at() }),
    requestRecordsTransfer: async () => ({ requested: true, at: at(), transferId: '00000000-0000-4000-8000-0000000000aa' }),
    recordTransition: async () => ({ at: at() }),
    remind: async () => undefined,
    escalateUrgentWait: async () => undefined,
    cancelRecordsTransfer: async () => undefined,
    recordTransferOutcome: async () => undefined,
  };
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: resolve(__dirname, '../../../../../services/referral/src/workflows/index.ts'),
    activities,
  });
  const running = worker.run();
  const client = new Client({ connection: await Connection.connect({ address }) });
  const referralId = '00000000-0000-4000-8000-000000000002';
  const handle = await client.workflow.start('secondOpinionWorkflow', {
    taskQueue,
    workflowId: `second-opinion/history-${randomUUID()}`,
    args: [{ referralId, urgency: 'urgent', originalTeamId: 'RJ122-CARD', policy: timerPolicyFor('urgent', 'cardiology', {}) }],
  });
  while ((await handle.query(statusQuery)).state !== 'gp-review') await new Promise((r) => setTimeout(r, 50));
  const gp = { role: 'gp', organisation: 'A81001' } as const;
  const team = { role: 'clinician', organisation: 'RTH' } as const;
  const decide = (action: DecisionAction, actor: Actor) => handle.executeUpdate(decisionUpdate, { args: [{ action, actor }] });
  await decide({ type: 'refer', targetTeam: { teamId: 'RTH01-CARD', ods: 'RTH01', name: 'Cardiology', siteName: 'County General' } }, gp);
  await decide({ type: 'triage-reject', reason: 'not our specialty' }, team);
  await decide({ type: 'refer', targetTeam: { teamId: 'RXF05-CARD', ods: 'RXF05', name: 'Cardiology', siteName: 'Riverside' } }, gp);
  await decide({ type: 'triage-accept' }, team);
  await decide({ type: 'inform-original-team' }, gp);
  await decide({ type: 'book-appointment', appointmentAt: '2026-12-01T10:00:00.000Z', site: { ods: 'RXF05', name: 'Riverside' } }, team);
  await decide({ type: 'issue-opinion', outcome: 'partially-differs', summary: 'recorded fixture', shareWithOriginalTeam: true }, team);
  await decide({ type: 'request-care-transfer' }, gp);
  await decide({ type: 'care-transfer-decision', accept: true }, team);
  await handle.result();
  const out = join(resolve(__dirname, '../../../../../services/referral/src/workflows/histories'), `${name}.json`);
  writeFileSync(out, historyToJSON(await handle.fetchHistory()));
  worker.shutdown();
  await running;
  await connection.close();
  await client.connection.close();
  process.stdout.write(`wrote ${out}\n`);
}

main(process.argv[2] ?? 'history').catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
