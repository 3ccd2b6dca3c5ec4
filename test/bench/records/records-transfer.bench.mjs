// Records-transfer benchmark: `npm run bench:records` (BENCH_STUDY_MIB=1024 by default; 256 for a quick run).
// Needs the network running (`npm start`): the demo trusts' PACS (RJ1 → RTH) and EHR, PostgreSQL and Temporal.
// One synthetic CT study of BENCH_STUDY_MIB is put in RJ1's PACS (with its ImagingStudy in RJ1's EHR), then moved to
// RTH's PACS twice, and the target emptied between runs:
//   1. a plain streaming pipe: each instance's WADO-RS answer piped into STOW-RS, BENCH_CONCURRENCY at a time: the
//      limit of these two PACS on this machine;
//   2. the service: a records-transfer worker process (dist/services/records-transfer/src/worker.js, with the heap
//      limits the service runs with) runs the RecordsTransferWorkflow for the study (hashing each instance on its way,
//      reading each back from the target and comparing digests), with its RSS sampled every 50 ms, idle and during it.
// Each is run BENCH_ROUNDS times (default 2), alternating, and the best of each is compared (this machine is noisy).
// Prints both throughputs, their ratio (target ≥ 0.7), and the worker's RSS at idle and at peak (target: peak no
// more than 64 MB above idle). Drops its database and deletes its study from both PACS at the end.
import { createRequire } from 'node:module';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const require = createRequire(import.meta.url);
const dist = (p) => require(join(root, 'dist', p));
const { Client: Pg } = require('pg');
const { Client: Temporal, Connection } = require('@temporalio/client');
const { AesGcmPayloadCodec, loadPayloadKey } = dist('libs/service-kit/src/index.js');

const MIB = Number(process.env.BENCH_STUDY_MIB ?? 1024);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
/** The heap limits the service runs with (infra/local/network.sh, k8s/services/services.yaml). */
const HEAP = (process.env.RECORDS_TRANSFER_NODE_HEAP ?? '--max-semi-space-size=4 --max-old-space-size=160').split(' ').filter(Boolean);
const hospitals = JSON.parse(readFileSync(join(root, 'infra/local/hospitals/hospitals.json'), 'utf8'));
const trust = (ods) => hospitals.trusts.find((t) => t.ods === ods);
const SRC = trust('RJ1');
const DST = trust('RTH');
const pacs = (t) => ({
  base: `http://127.0.0.1:${t.pacs.httpPort}`,
  auth: { authorization: `Basic ${Buffer.from(`${t.pacs.username}:${t.pacs.password}`).toString('base64')}` },
});
const fhirBase = (t) => `http://127.0.0.1:${hospitals.fhir.port}${hospitals.fhir.basePath}/${t.fhir.tenant}`;
const fhirAuth = (t) => ({ authorization: `Basic ${Buffer.from(`${t.fhir.username}:${t.fhir.password}`).toString('base64')}` });
const pg = {
  host: process.env.PGHOST ?? '127.0.0.1',
  port: Number(process.env.PGPORT ?? 5432),
  user: process.env.PGUSER ?? 'sonet',
  password: process.env.PGPASSWORD ?? 'sonet',
};
const suffix = randomBytes(4).toString('hex');
const DB = `bench_records_${suffix}`;
const QUEUE = `records-transfer-bench-${suffix}`;
const log = (...a) => console.log(`[bench] ${a.join(' ')}`);
const WADO_ACCEPT = 'multipart/related; type="application/dicom"; transfer-syntax=*';

function testNhsNumber() {
  for (;;) {
    const nine = `999${String(randomInt(0, 1_000_000)).padStart(6, '0')}`;
    const sum = [...nine].reduce((s, d, i) => s + Number(d) * (10 - i), 0);
    const check = 11 - (sum % 11);
    if (check !== 10) return `${nine}${check === 11 ? 0 : check}`;
  }
}

async function ok(res, what) {
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
  return res;
}

async function instancesOf(t, studyUid) {
  const out = [];
  for (let offset = 0; ; offset += 1000) {
    const res = await fetch(`${pacs(t).base}/dicom-web/studies/${studyUid}/instances?limit=1000&offset=${offset}&includefield=0020000E`, {
      headers: { ...pacs(t).auth, accept: 'application/dicom+json' },
    });
    if (res.status === 204 || res.status === 404) return out;
    const page = await (await ok(res, 'QIDO-RS')).json();
    for (const d of page) out.push({ series: d['0020000E'].Value[0], sop: d['00080018'].Value[0] });
    if (page.length < 1000) return out;
  }
}

async function deleteStudy(t, studyUid) {
  const res = await fetch(`${pacs(t).base}/tools/lookup`, { method: 'POST', headers: pacs(t).auth, body: studyUid });
  for (const hit of res.ok ? await res.json() : [])
    if (hit.Type === 'Study') await fetch(`${pacs(t).base}${hit.Path}`, { method: 'DELETE', headers: pacs(t).auth });
}

/** The plain pipe: WADO-RS from the source straight into STOW-RS at the target, per instance, N at a time. */
async function plainPipe(studyUid, instances) {
  let next = 0;
  let bytes = 0;
  const worker = async () => {
    while (next < instances.length) {
      const i = instances[next++];
      const src = await ok(
        await fetch(`${pacs(SRC).base}/dicom-web/studies/${studyUid}/series/${i.series}/instances/${i.sop}`, {
          headers: { ...pacs(SRC).auth, accept: WADO_ACCEPT },
        }),
        'WADO-RS',
      );
      bytes += Number(src.headers.get('content-length') ?? 0);
      const res = await fetch(`${pacs(DST).base}/dicom-web/studies`, {
        method: 'POST',
        headers: { ...pacs(DST).auth, 'content-type': src.headers.get('content-type'), accept: 'application/dicom+json' },
        body: src.body,
        duplex: 'half',
      });
      await (await ok(res, 'STOW-RS')).arrayBuffer();
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { seconds: (performance.now() - t0) / 1000, bytes };
}

const rssOf = (pid) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  } catch {
    return 0;
  }
};
const mb = (b) => (b / 1024 / 1024).toFixed(1);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  if (!existsSync(join(root, 'dist/services/records-transfer/src/worker.js')))
    throw new Error('build first: npm run build (npm start does it)');
  const nhsNumber = testNhsNumber();
  const studyUid = `2.25.${BigInt(`0x${randomBytes(12).toString('hex')}`)}`;
  const cache = join(root, '.local/cache/bench-dicom', `${MIB}mib`);

  // --- The study: generated once (cached), stored under this run's UIDs in the source PACS and described in its EHR.
  log(`generating a ${MIB} MiB CT study (cached in .local/cache/bench-dicom)...`);
  execFileSync(
    process.execPath,
    [
      join(root, 'infra/local/hospitals/seed-pacs.mjs'),
      'generate',
      '--study-uid',
      studyUid,
      '--patient',
      nhsNumber,
      '--size-mib',
      String(MIB),
      '--out',
      cache + '-' + suffix,
    ],
    { stdio: 'inherit' },
  );
  log("uploading it to RJ1's PACS...");
  execFileSync(
    process.execPath,
    [join(root, 'infra/local/hospitals/seed-pacs.mjs'), 'upload', '--dir', cache + '-' + suffix, '--ods', 'RJ1'],
    { stdio: 'inherit' },
  );
  execFileSync('rm', ['-rf', cache + '-' + suffix]);
  const instances = await instancesOf(SRC, studyUid);
  log(`${instances.length} instances in RJ1's PACS`);
  const pid = `bench-${suffix}`;
  for (const [type, body] of [
    ['Patient', { resourceType: 'Patient', id: pid, identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumber }] }],
    [
      'ImagingStudy',
      {
        resourceType: 'ImagingStudy',
        id: pid,
        status: 'available',
        subject: { reference: `Patient/${pid}` },
        started: new Date().toISOString(),
        description: 'Benchmark CT',
        identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${studyUid}` }],
      },
    ],
  ]) {
    await ok(
      await fetch(`${fhirBase(SRC)}/${type}/${pid}`, {
        method: 'PUT',
        headers: { ...fhirAuth(SRC), 'content-type': 'application/fhir+json' },
        body: JSON.stringify(body),
      }),
      `PUT ${type}`,
    );
  }

  const admin = new Pg({ ...pg, database: 'postgres' });
  await admin.connect();
  await admin.query(`create database "${DB}"`);
  const env = {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    PGDATABASE: DB,
    TEMPORAL_TASK_QUEUE: QUEUE,
    WORKFLOW_BUNDLE_PATH: join(root, 'dist/services/records-transfer/workflow-bundle.js'),
    RECORDS_CONNECTORS_FILE: join(root, '.local/state/records-transfer/connectors.json'),
    TEMPORAL_PAYLOAD_KEY_FILE: join(root, '.local/state/temporal-codec/records-transfer.key'),
  };
  execFileSync(process.execPath, [join(root, 'dist/services/records-transfer/src/migrate.js')], { env, stdio: 'ignore' });
  const worker = spawn(process.execPath, [...HEAP, join(root, 'dist/services/records-transfer/src/worker.js')], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const db = new Pg({ ...pg, database: DB });
  const codec = new AesGcmPayloadCodec(loadPayloadKey({ NODE_ENV: 'test', TEMPORAL_PAYLOAD_KEY_FILE: env.TEMPORAL_PAYLOAD_KEY_FILE }));
  const temporal = new Temporal({
    connection: await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' }),
    dataConverter: { payloadCodecs: [codec] },
  });
  const pipes = [];
  const runs = [];
  let idle = 0;
  try {
    await db.connect();
    await sleep(8000);
    const idleSamples = [];
    for (let i = 0; i < 20; i++) {
      idleSamples.push(rssOf(worker.pid));
      await sleep(50);
    }
    idle = Math.max(...idleSamples);
    log(`worker idle RSS ${mb(idle)} MiB (heap limits: ${HEAP.join(' ') || 'none'})`);
    for (let round = 1; round <= ROUNDS; round++) {
      // --- 1. The plain pipe (the limit here).
      await deleteStudy(DST, studyUid);
      const pipe = await plainPipe(studyUid, instances);
      pipes.push(pipe.bytes / pipe.seconds);
      log(`round ${round} pipe: ${mb(pipe.bytes)} MiB in ${pipe.seconds.toFixed(1)} s = ${mb(pipe.bytes / pipe.seconds)} MiB/s`);
      await deleteStudy(DST, studyUid);
      // --- 2. The service's worker.
      const run = await serviceRun(db, temporal, worker.pid, nhsNumber);
      runs.push(run);
      log(
        `round ${round} service: ${run.instances} instances, ${mb(run.bytes)} MiB in ${run.seconds.toFixed(1)} s = ${mb(run.rate)} MiB/s, peak RSS ${mb(run.peak)} MiB`,
      );
    }
    const pipeRate = Math.max(...pipes);
    const best = runs.reduce((a, b) => (b.rate > a.rate ? b : a));
    const peak = Math.max(...runs.map((r) => r.peak));
    console.log('');
    console.log('| figure | result | target |');
    console.log('| --- | --- | --- |');
    console.log(`| study | ${instances.length} instances, ${mb(best.bytes)} MiB | 1 GiB |`);
    console.log(
      `| plain WADO-RS → STOW-RS pipe (${CONCURRENCY} streams), best of ${ROUNDS} | ${mb(pipeRate)} MiB/s (${pipes.map((p) => mb(p)).join(', ')}) | |`,
    );
    console.log(
      `| service (hash on the way, read back, compare), best of ${ROUNDS} | ${mb(best.rate)} MiB/s (${runs.map((r) => mb(r.rate)).join(', ')}) | |`,
    );
    console.log(`| ratio | ${(best.rate / pipeRate).toFixed(2)} | ≥ 0.7 |`);
    console.log(`| worker RSS idle / peak | ${mb(idle)} / ${mb(peak)} MiB | |`);
    console.log(`| peak above idle | ${mb(peak - idle)} MiB | ≤ 64 MB |`);
  } finally {
    worker.kill('SIGTERM');
    await temporal.connection.close().catch(() => {});
    await db.end().catch(() => {});
    await deleteStudy(DST, studyUid);
    await deleteStudy(SRC, studyUid);
    await admin.query(`drop database if exists "${DB}" with (force)`);
    await admin.end();
  }
}

/** One transfer of the study by the worker: the time from the start of its sending to its confirmation, and peak RSS. */
async function serviceRun(db, temporal, pid, nhsNumber) {
  const transferId = randomUUID();
  await db.query(
    `insert into transfer_request (id, referral_id, source_organisation, target_organisation, document_kinds, lawful_basis, consent_recorded_at, status,
       requested_at, received_at, causation_event_id, nhs_number, specialty)
     values ($1, $2, 'RJ122', 'RTH01', '{clinic-letters,test-results,imaging}', 'explicit-consent', now(), 'ready', now(), now(), $3, $4, 'cardiology')`,
    [transferId, randomUUID(), randomUUID(), nhsNumber],
  );
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 50);
  try {
    const handle = await temporal.workflow.start('recordsTransferWorkflow', {
      workflowId: `records-transfer/${transferId}`,
      taskQueue: QUEUE,
      args: [{ transferId, reviewHoldMs: 0, maxAttemptsPerItem: 3, heartbeatTimeoutMs: 60000 }],
    });
    let t0 = 0;
    let t1 = 0;
    for (;;) {
      const { rows } = await db.query(`select status from transfer_item where transfer_id = $1 and kind = 'imaging-study'`, [transferId]);
      const s = rows[0]?.status;
      if (!t0 && (s === 'sending' || s === 'acknowledged')) t0 = performance.now();
      if (s === 'acknowledged') {
        t1 = performance.now();
        break;
      }
      const { rows: tr } = await db.query('select status, reason from transfer_request where id = $1', [transferId]);
      if (['failed', 'cancelled', 'refused', 'completed'].includes(tr[0].status))
        throw new Error(`transfer ${tr[0].status}: ${tr[0].reason}`);
      await sleep(20);
    }
    await handle.result();
    const { rows } = await db.query(
      `select sum(i.size)::bigint bytes, count(*) n from transfer_instance i join transfer_item t on t.id = i.item_id where t.transfer_id = $1`,
      [transferId],
    );
    const bytes = Number(rows[0].bytes);
    const seconds = (t1 - t0) / 1000;
    return { bytes, seconds, rate: bytes / seconds, instances: Number(rows[0].n), peak };
  } finally {
    clearInterval(sampler);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
