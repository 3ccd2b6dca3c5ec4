// Whole-network benchmark: `npm run bench:network` against the running network (`npm start`).
//
// Drives the network as a GP system would: each client, in a closed loop, POSTs a referral, then refers it
// (retrying a 409 until the decision is taken: the count is printed), then starts the next. A referral is
// *completed* when the receiving team sees it in triage (read model state awaiting-triage), the audit log holds its
// request and referral events, and the patient's acknowledgement has been sent; a watcher polls the three services'
// databases every BENCH_POLL_MS (default 200 ms) for that, so end-to-end times are that coarse.
// Each concurrency level (BENCH_LEVELS, default 1,4,16,32) runs BENCH_SECONDS (default 30) after a warm-up, then
// waits for its referrals to complete (at most BENCH_DRAIN_SECONDS, default 60).
// In the same run, the raw Temporal baseline: a trivial workflow (no activity) started and awaited in a closed
// loop on the same server, at the same levels, by a worker in this process; and one with a single activity.
// Prints per level: completed referrals/s, p50/p95/p99 of POST, decision (from the POST) and end to end, 409s, and
// CPU (% of one core) and peak RSS per process, CPU per completed referral per process and for the whole machine
// (/proc/stat: stand-ins, load generator and kernel too); then the baseline and the ratio peak referrals/s ÷ peak trivial
// workflows/s (target ≥ 0.5); BENCH_BASELINE=0 leaves the baseline out (A/B runs of the network alone). Leaves its
// referrals in the network (demo-like data from practice A81001).
// BENCH_SHAPE=scale-out (`npm run bench:scale-out`): the same against `npm run start:scale-out` (its front ports,
// its PostgreSQL and Temporal); CPU and memory are summed over a service's replicas and the Kafka nodes, and only
// that shape's processes are counted (its pid files), so a single-node network running beside it is left out.
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const require = createRequire(import.meta.url);
const dist = (p) => require(join(root, 'dist', p));
const { Client: Pg } = require('pg');
const { Client: TemporalClient, Connection } = require('@temporalio/client');
const { Worker, NativeConnection, Runtime, DefaultLogger } = require('@temporalio/worker');
const { testTokens, randomTestNhsNumber } = dist('libs/testing/src/index.js');
/** BENCH_SHAPE: single (npm start) or scale-out (npm run start:scale-out); infra/local/scale-out/shape.cjs. */
const SHAPE = require(join(root, 'infra/local/scale-out/shape.cjs')).load(process.env.BENCH_SHAPE ?? 'single', root);
const SCALED = SHAPE.name === 'scale-out';

const LEVELS = (process.env.BENCH_LEVELS ?? '1,4,16,32').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const DRAIN_SECONDS = Number(process.env.BENCH_DRAIN_SECONDS ?? 60);
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 200);
/** BENCH_BASELINE=0 leaves out the Temporal baseline (for A/B runs of the network alone): no ratio is printed. */
const BASELINE = process.env.BENCH_BASELINE !== '0';
const REFERRAL_API = process.env.REFERRAL_API_URL ?? `http://127.0.0.1:${SHAPE.services[0].front}`;
const TEMPORAL = process.env.TEMPORAL_ADDRESS ?? `127.0.0.1:${SHAPE.temporal.port}`;
const PRACTICE = 'A81001';
const pgConfig = (database) => ({
  host: process.env.PGHOST ?? '127.0.0.1',
  port: Number(process.env.PGPORT ?? SHAPE.postgres.port),
  user: process.env.PGUSER ?? 'sonet',
  password: process.env.PGPASSWORD ?? 'sonet',
  database,
});
const log = (...a) => console.log(`[bench] ${a.join(' ')}`);

// ---------- statistics and processes ----------

const pct = (xs, p) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const secs = (ms) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : '–');
const triple = (xs) => `${secs(pct(xs, 50))} / ${secs(pct(xs, 95))} / ${secs(pct(xs, 99))}`;

/** The processes measured, found by their command lines (supervisors and pid files aside). */
const PROCESSES = {
  referral: (cmd) => cmd.includes('dist/services/referral/src/main.js'),
  'records-transfer': (cmd) => cmd.includes('dist/services/records-transfer/src/main.js'),
  notification: (cmd) => cmd.includes('dist/services/notification/src/main.js'),
  audit: (cmd) => cmd.includes('dist/services/audit/src/main.js'),
  temporal: (cmd) => /temporal\0server\0start-dev/.test(cmd),
  kafka: (cmd) => cmd.includes('kafka.Kafka'),
  postgres: (cmd, comm) => comm === 'postgres',
  ...(SCALED ? { balancer: (cmd) => cmd.includes('scale-out/balancer.cjs') } : {}),
};

/** Scale-out shape: the pids its pid files name (replicas, Kafka nodes, Temporal, the postmaster, the balancer). */
function shapePids() {
  const run = join(SHAPE.local, 'run');
  const pids = new Set();
  for (const f of readdirSync(run).filter((n) => n.endsWith('.pid') && !n.endsWith('.supervisor.pid'))) {
    try {
      pids.add(readFileSync(join(run, f), 'utf8').trim());
    } catch {
      // removed while read
    }
  }
  return pids;
}
const TICKS = 100; // USER_HZ on Linux

/** The measured processes, pid → name: a scan of every process's command line (costly: done every few seconds). */
function findProcesses() {
  const found = new Map();
  const own = SCALED ? shapePids() : undefined;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      // A process of the shape, or a child of one (PostgreSQL's backends are the postmaster's children).
      if (own && !own.has(pid) && !own.has(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])) continue;
      const name = Object.keys(PROCESSES).find((k) => PROCESSES[k](cmd, comm));
      if (name) found.set(pid, name);
    } catch {
      // the process ended while being read
    }
  }
  return found;
}

/** CPU ticks and RSS of the given processes (by default all, found afresh). */
function sampleProcesses(pids = findProcesses()) {
  const out = Object.fromEntries(Object.keys(PROCESSES).map((k) => [k, { ticks: new Map(), rssKiB: 0 }]));
  for (const [pid, name] of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[name].ticks.set(pid, Number(fields[11]) + Number(fields[12])); // utime + stime
      const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
      out[name].rssKiB += rss ? Number(rss[1]) : 0;
    } catch {
      // the process ended while being read
    }
  }
  return out;
}

/** CPU ticks spent between two samples: a process that started in between counts whole (one that ended is lost). */
const ticksBetween = (before, after) => [...after].reduce((sum, [pid, t]) => sum + t - (before.get(pid) ?? 0), 0);

/**
 * CPU ticks the whole machine spent busy (every core), from /proc/stat: idle and I/O wait aside, and time the
 * hypervisor took (steal), which no process here used.
 */
function machineBusyTicks() {
  const [, ...fields] = readFileSync('/proc/stat', 'latin1').split('\n')[0].trim().split(/\s+/).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields;
  return {
    busy: user + nice + system + irq + softirq,
    idle: idle + iowait,
    all: user + nice + system + idle + iowait + irq + softirq + steal,
  };
}

/** CPU (% of one core) and peak RSS per process while `run` runs; and the whole machine's CPU (% of one core). */
async function measureProcesses(run) {
  // Peak RSS each second from the processes last found; the scan of /proc for new ones (restarted services, new
  // PostgreSQL backends) only every tenth second, so that the load generator does not take the cores it measures.
  let pids = findProcesses();
  let ticks = 0;
  const start = sampleProcesses(pids);
  const machineStart = machineBusyTicks();
  const t0 = Date.now();
  const peak = Object.fromEntries(Object.keys(start).map((k) => [k, start[k].rssKiB]));
  const timer = setInterval(() => {
    if (++ticks % 10 === 0) pids = findProcesses();
    const s = sampleProcesses(pids);
    for (const k of Object.keys(s)) peak[k] = Math.max(peak[k], s[k].rssKiB);
  }, 1000);
  try {
    const result = await run();
    const end = sampleProcesses();
    const machineEnd = machineBusyTicks();
    const wall = (Date.now() - t0) / 1000;
    const usage = Object.fromEntries(
      Object.keys(end).map((k) => [k, { cpu: (ticksBetween(start[k].ticks, end[k].ticks) / TICKS / wall) * 100, rssMiB: peak[k] / 1024 }]),
    );
    const machine = {
      cpu: ((machineEnd.busy - machineStart.busy) / TICKS / wall) * 100,
      idle: (machineEnd.idle - machineStart.idle) / (machineEnd.all - machineStart.all),
    };
    return { result, usage, wall, machine };
  } finally {
    clearInterval(timer);
  }
}

const usageLine = (usage) =>
  Object.entries(usage)
    .map(([k, u]) => `${k} ${u.cpu.toFixed(0)}%/${u.rssMiB.toFixed(0)}MiB`)
    .join('  ');

// ---------- the referral walk ----------

const tokens = await testTokens(join(root, '.local/state/auth')); // the running network's development issuer
const gp = await tokens.bearer('gp', PRACTICE);
const json = { 'content-type': 'application/json' };

function requestBody() {
  return {
    patient: {
      nhsNumber: randomTestNhsNumber(),
      name: 'Bench Patient',
      email: `bench-${randomBytes(6).toString('hex')}@patients.example`,
      preferredChannel: 'email',
    },
    originalTeamId: 'RJ122-CARD',
    specialty: 'cardiology',
    reason: 'Benchmark: wants a second view on the treatment plan.',
    urgency: 'routine',
    explainedByOriginalTeam: true,
    recordsSharingConsent: false,
  };
}

async function post(url, body) {
  const res = await fetch(url, { method: 'POST', headers: { ...json, ...gp }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Whether the referral is past the GP's review (its refer decision taken). */
async function referred(id) {
  const res = await fetch(`${REFERRAL_API}/v1/referrals/${id}`, { headers: gp }).catch(() => undefined);
  if (!res?.ok) return false;
  const { state } = await res.json();
  return state !== 'requested' && state !== 'gp-review';
}

/** One client's closed loop until `until`: request, refer (409s retried), next. */
async function client(until, pending, stats) {
  while (Date.now() < until) {
    const t0 = Date.now();
    const created = await post(`${REFERRAL_API}/v1/referrals`, requestBody());
    if (created.status !== 202) {
      stats.errors.push(`POST ${created.status}`);
      await sleep(200);
      continue;
    }
    stats.post.push(Date.now() - t0);
    const id = created.body.id;
    for (;;) {
      const refer = await post(`${REFERRAL_API}/v1/referrals/${id}/gp-decision`, { decision: 'refer', targetTeamId: 'RTH01-CARD' });
      if (refer.status === 200) break;
      // A 409 after a 503: the earlier attempt's Update took effect but its answer was lost (ADR 17, "not covered"):
      // the referral is already past the GP's review. Retrying would loop for ever.
      if (refer.status === 409 && (await referred(id))) {
        stats.lateAnswers += 1;
        break;
      }
      if (refer.status === 409 || refer.status === 503) {
        stats.conflicts += refer.status === 409 ? 1 : 0;
        await sleep(50);
        continue;
      }
      stats.errors.push(`decision ${refer.status}`);
      break;
    }
    stats.decision.push(Date.now() - t0);
    pending.set(id, t0);
  }
}

/** Polls the three databases for completed referrals; resolves each with its end-to-end time. */
function watcher(pending, completed) {
  const dbs = { referral: new Pg(pgConfig('referral')), audit: new Pg(pgConfig('audit')), notification: new Pg(pgConfig('notification')) };
  let stopped = false;
  const loop = (async () => {
    await Promise.all(Object.values(dbs).map((c) => c.connect()));
    while (!stopped) {
      const ids = [...pending.keys()];
      if (ids.length) {
        const [triage, audited, acknowledged] = await Promise.all([
          dbs.referral.query(`select id from referral where id = any($1::uuid[]) and state = 'awaiting-triage'`, [ids]),
          dbs.audit.query(
            `select subject as id from audit_entry where subject = any($1::uuid[])
               and (event_type like 'referral.requested.%' or event_type like 'referral.referred.%')
             group by subject having count(distinct split_part(event_type, '.', 2)) = 2`,
            [ids],
          ),
          dbs.notification.query(
            `select distinct referral_id as id from notification where referral_id = any($1::uuid[])
               and template = 'patient-acknowledgement' and status in ('sent', 'delivered')`,
            [ids],
          ),
        ]);
        const a = new Set(audited.rows.map((r) => r.id));
        const n = new Set(acknowledged.rows.map((r) => r.id));
        const now = Date.now();
        for (const { id } of triage.rows) {
          if (a.has(id) && n.has(id)) {
            completed.push({ id, t0: pending.get(id), e2e: now - pending.get(id), at: now });
            pending.delete(id);
          }
        }
      }
      await sleep(POLL_MS);
    }
    await Promise.all(Object.values(dbs).map((c) => c.end()));
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

async function referralLevel(concurrency) {
  const pending = new Map();
  const completed = [];
  const stats = { post: [], decision: [], conflicts: 0, lateAnswers: 0, errors: [] };
  const stopWatching = watcher(pending, completed);
  const { result, usage, wall, machine } = await measureProcesses(async () => {
    const start = Date.now() + WARMUP_SECONDS * 1000;
    const until = start + SECONDS * 1000;
    await Promise.all(Array.from({ length: concurrency }, () => client(until, pending, stats)));
    const drainUntil = Date.now() + DRAIN_SECONDS * 1000;
    while (pending.size && Date.now() < drainUntil) await sleep(POLL_MS);
    return { start, until };
  });
  await stopWatching();
  const inWindow = completed.filter((c) => c.t0 >= result.start && c.t0 < result.until);
  // CPU per completed referral: CPU (% of one core) over the level (warm-up and drain too) ÷ every referral it completed.
  const perReferral = (cpu) => (completed.length ? ((cpu / 100) * wall * 1000) / completed.length : NaN);
  return {
    concurrency,
    perSecond: inWindow.length / SECONDS,
    post: stats.post,
    decision: stats.decision,
    e2e: inWindow.map((c) => c.e2e),
    conflicts: stats.conflicts,
    lateAnswers: stats.lateAnswers,
    errors: stats.errors,
    lost: pending.size,
    usage,
    cpuMsPerReferral: Object.fromEntries(Object.entries(usage).map(([k, u]) => [k, perReferral(u.cpu)])),
    // The whole machine's: the measured processes, and what else runs (stand-ins such as the trace viewer and the
    // mail catcher, this load generator, the kernel).
    machineMsPerReferral: perReferral(machine.cpu),
    machineIdle: machine.idle,
  };
}

// ---------- the raw Temporal baseline ----------

async function temporalBaseline(levels) {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const taskQueue = `bench-trivial-${randomBytes(4).toString('hex')}`;
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address: TEMPORAL }),
    taskQueue,
    workflowsPath: join(here, 'trivial.workflow.cjs'),
    activities: { nothing: async () => undefined },
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: TEMPORAL });
  const client = new TemporalClient({ connection });
  const results = [];
  try {
    for (const kind of ['trivial', 'oneActivity']) {
      for (const concurrency of levels) {
        let done = 0;
        const { usage } = await measureProcesses(async () => {
          const start = Date.now() + WARMUP_SECONDS * 1000;
          const until = start + SECONDS * 1000;
          await Promise.all(
            Array.from({ length: concurrency }, async () => {
              while (Date.now() < until) {
                await client.workflow.execute(kind, { taskQueue, workflowId: `${taskQueue}-${randomBytes(8).toString('hex')}` });
                if (Date.now() >= start && Date.now() < until) done += 1;
              }
            }),
          );
        });
        results.push({ kind, concurrency, perSecond: done / SECONDS, usage });
        log(
          `temporal ${kind} × ${concurrency}: ${(done / SECONDS).toFixed(1)}/s   ${usageLine({ temporal: usage.temporal, postgres: usage.postgres })}`,
        );
      }
    }
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }
  return results;
}

// ---------- the run ----------

log(
  `${SHAPE.name} shape (${SHAPE.services[0].replicas.length} replica(s) per service, ${SHAPE.kafka.nodes.length} Kafka node(s)); ` +
    `levels ${LEVELS.join(', ')}; ${SECONDS} s each after ${WARMUP_SECONDS} s warm-up; completion polled every ${POLL_MS} ms`,
);
const levels = [];
for (const c of LEVELS) {
  const r = await referralLevel(c);
  levels.push(r);
  log(
    `referrals × ${c}: ${r.perSecond.toFixed(2)}/s completed; p50/p95/p99 POST ${triple(r.post)}, decision ${triple(r.decision)}, ` +
      `end to end ${triple(r.e2e)}; 409s ${r.conflicts}; decisions taken by an attempt answered 503 ${r.lateAnswers}; errors ${r.errors.length}; not completed ${r.lost}`,
  );
  log(`  cpu/peak rss: ${usageLine(r.usage)}`);
  const perReferral = Object.entries(r.cpuMsPerReferral);
  log(
    `  cpu per completed referral: ${perReferral.map(([k, ms]) => `${k} ${ms.toFixed(0)} ms`).join('  ')}; ` +
      `measured processes ${perReferral.reduce((a, [, ms]) => a + ms, 0).toFixed(0)} ms; ` +
      `whole machine ${r.machineMsPerReferral.toFixed(0)} ms (idle ${(100 * r.machineIdle).toFixed(0)} %)`,
  );
  if (r.errors.length) log(`  errors: ${[...new Set(r.errors)].join(', ')}`);
}
const peak = levels.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
console.log('');
console.log(
  `${SHAPE.name} shape: ${SHAPE.services[0].replicas.length} replica(s) per service, ${SHAPE.kafka.nodes.length} Kafka node(s) (RF ${SHAPE.kafka.replicationFactor}, min ISR ${SHAPE.kafka.minInsyncReplicas})`,
);
console.log('| concurrent clients | completed referrals/s | decision p99 | end-to-end p99 | 409s |');
console.log('|---|---|---|---|---|');
for (const r of levels)
  console.log(`| ${r.concurrency} | ${r.perSecond.toFixed(2)} | ${secs(pct(r.decision, 99))} | ${secs(pct(r.e2e, 99))} | ${r.conflicts} |`);
console.log('');
if (BASELINE) {
  const baseline = await temporalBaseline(LEVELS);
  const trivialPeak = Math.max(...baseline.filter((b) => b.kind === 'trivial').map((b) => b.perSecond));
  const activityPeak = Math.max(...baseline.filter((b) => b.kind === 'oneActivity').map((b) => b.perSecond));
  console.log(
    `Temporal baseline on the same server: trivial workflow ${trivialPeak.toFixed(1)}/s, with one activity ${activityPeak.toFixed(1)}/s`,
  );
  console.log(
    `ratio (peak referrals/s ÷ trivial workflows/s): ${(peak.perSecond / trivialPeak).toFixed(2)} at ${peak.concurrency} clients (target ≥ 0.5); ` +
      `end-to-end p99 at the peak ${secs(pct(peak.e2e, 99))} (target ≤ 2 s)`,
  );
} else {
  console.log(`no Temporal baseline (BENCH_BASELINE=0); end-to-end p99 at the peak ${secs(pct(peak.e2e, 99))}`);
}
