import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, REPO_ROOT } from '@sonet/testing';
import { HospitalTestBed, SOURCE, TARGET } from '../../test/hospital-test-bed';

const WORKER = join(REPO_ROOT, 'dist/services/records-transfer/src/worker.js');

/**
 * The worker that moves a large study is killed (SIGKILL) half-way and started again: the transfer resumes at the
 * instance where it stopped, every instance arrives exactly once with its digest, and what was confirmed before the
 * crash is not sent again. The worker runs in its own process (the built dist/, as in production); this test's
 * service only records requests and starts workflows.
 */
describe('records-transfer surviving a killed worker in the middle of a large study', () => {
  const bed = new HospitalTestBed();
  let worker: ChildProcess | undefined;

  const startWorker = () => {
    const env = { ...process.env, ...workerEnv(bed), LOG_LEVEL: 'warn' };
    const p = spawn(process.execPath, ['--enable-source-maps', WORKER], { cwd: REPO_ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
    return p;
  };

  beforeAll(async () => {
    if (!existsSync(WORKER)) throw new Error(`${WORKER} is missing: build first (npm run build; npm test does it)`);
    await bed.start({ runWorker: false });
  }, 120_000);

  afterAll(async () => {
    worker?.kill('SIGKILL');
    await bed.stop();
  }, HospitalTestBed.stopTimeoutMs);

  it('resumes at the instance where it stopped; each arrives once, byte-identical', async () => {
    const patient = await bed.seedPatient({ slices: 120 });
    // About 60 MB through a 4 MB/s link: long enough to kill the worker half-way.
    await bed.tox.addToxic(bed.proxies.sourcePacs, { name: 'slow', type: 'bandwidth', attributes: { rate: 4096 } });
    worker = startWorker();
    const command = bed.command(patient);
    await bed.send(command);
    const before = await eventually(
      async () => {
        const s = (await bed.transfer(command.data.transferId))?.items.find((i) => i.kind === 'imaging-study' && i.relevant);
        return s?.instances && s.instances.confirmed >= 30 ? s : undefined;
      },
      90_000,
      100,
    );
    worker.kill('SIGKILL');
    await new Promise((r) => worker!.once('exit', r));
    const confirmedBeforeCrash = await bed.orm.em
      .fork()
      .execute<{ sop_instance_uid: string; acknowledged_at: string }[]>(
        `select sop_instance_uid, acknowledged_at::text as acknowledged_at from transfer_instance where item_id = ? and status = 'acknowledged'`,
        [before.itemId],
      );
    expect(confirmedBeforeCrash.length).toBeGreaterThanOrEqual(30);
    expect(confirmedBeforeCrash.length).toBeLessThan(120);

    await bed.tox.removeToxic(bed.proxies.sourcePacs, 'slow');
    worker = startWorker();
    const t = await eventually(
      async () => {
        const x = await bed.transfer(command.data.transferId);
        return x && x.status === 'completed' ? x : undefined;
      },
      120_000,
      250,
    );

    const study = t.items.find((i) => i.kind === 'imaging-study' && i.relevant)!;
    expect(study.instances).toMatchObject({ total: 120, confirmed: 120 });
    // Confirmed before the crash, untouched after it: the new attempt started where the old one stopped.
    const after = await bed.orm.em
      .fork()
      .execute<{ sop_instance_uid: string; acknowledged_at: string }[]>(
        `select sop_instance_uid, acknowledged_at::text as acknowledged_at from transfer_instance where item_id = ?`,
        [before.itemId],
      );
    const byUid = new Map(after.map((r) => [r.sop_instance_uid, r.acknowledged_at]));
    for (const r of confirmedBeforeCrash) expect(byUid.get(r.sop_instance_uid)).toBe(r.acknowledged_at);
    // Exactly once at the target, each byte-identical to the source.
    const target = await bed.studyAt(TARGET, patient.studyUid);
    expect(target.size).toBe(120);
    expect(target).toEqual(await bed.studyAt(SOURCE, patient.studyUid));
    const records = await bed.targetRecords(patient.nhsNumber);
    expect(records.ImagingStudy).toHaveLength(1);
    expect(records.DocumentReference).toHaveLength(1);
  }, 300_000);
});

/** The worker process's environment: the same database, Temporal task queue and hospital connectors as the test's service. */
function workerEnv(bed: HospitalTestBed): Record<string, string> {
  const c = bed.config;
  return {
    NODE_ENV: 'test',
    PGHOST: c.PGHOST,
    PGPORT: String(c.PGPORT),
    PGUSER: c.PGUSER,
    PGPASSWORD: c.PGPASSWORD,
    PGDATABASE: c.PGDATABASE,
    TEMPORAL_ADDRESS: c.TEMPORAL_ADDRESS,
    TEMPORAL_TASK_QUEUE: c.TEMPORAL_TASK_QUEUE,
    TEMPORAL_PAYLOAD_KEY_FILE: c.TEMPORAL_PAYLOAD_KEY_FILE,
    WORKFLOW_BUNDLE_PATH: join(REPO_ROOT, 'dist/services/records-transfer/workflow-bundle.js'),
    RECORDS_CONNECTORS_JSON: bed.connectorsJson,
    RECORDS_LOOKBACK_DAYS: String(c.RECORDS_LOOKBACK_DAYS),
    RUN_WORKER: 'true',
  };
}
