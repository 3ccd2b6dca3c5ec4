// Fault suite (issue 13): referrals in flight while each service is SIGKILLed and Kafka, Temporal and PostgreSQL are
// killed and started again; afterwards, set arithmetic over every acknowledged request: 0 lost, 0 duplicated, and the
// recovery time of each fault. Needs the network running (`npm start`); see test/reliability/README.md.
//
//   npm run faults            bounded: 2 clients, each fault once, ~3-4 min
//   npm run faults:full       FAULTS_FULL=1: 4 clients, every fault twice, longer quiet periods
//   FAULTS_ONLY=services      only the service kills (Kafka, Temporal and PostgreSQL are left alone)
//   FAULTS_ONLY=none          no fault at all: the load and the arithmetic on a healthy network (kills nothing)
//   npm run faults:scale-out  FAULTS_SHAPE=scale-out: against `npm run start:scale-out` (3 Kafka nodes, 2 replicas of
//                             each service behind front ports): SIGKILLs one replica of each service while the other
//                             serves, kills one Kafka node and keeps going on two before starting it again, then kills
//                             and restarts Temporal and PostgreSQL
//
// It kills the processes of the network this checkout runs (.local/run/*.pid, .local/scale-out/run/*.pid for the
// scale-out shape): never run it against a network others are testing against.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import arithmetic from './fault-arithmetic.cjs';

const { compare, recoveryLine } = arithmetic;
// FAULTS_ROOT: the checkout whose network (pid files, token issuer, build) is under test; this one by default.
const root = resolve(process.env.FAULTS_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '../..'));
const require = createRequire(import.meta.url);
const { Client: Pg } = require('pg');
const { Kafka, logLevel } = require('kafkajs');
/** FAULTS_SHAPE: single (npm start) or scale-out (npm run start:scale-out); infra/local/scale-out/shape.cjs. */
const SHAPE = require('../../infra/local/scale-out/shape.cjs').load(process.env.FAULTS_SHAPE ?? 'single', root);
const SCALED = SHAPE.name === 'scale-out';
const { mintDevToken } = require(join(root, 'dist/libs/auth/src/index.js'));

const FULL = process.env.FAULTS_FULL === '1';
const ONLY_SERVICES = process.env.FAULTS_ONLY === 'services';
/** FAULTS_ONLY=none: the load and the arithmetic without any fault (a check of the suite itself on a healthy network). */
const NO_FAULTS = process.env.FAULTS_ONLY === 'none';
const CLIENTS = Number(process.env.FAULTS_CLIENTS ?? (FULL ? 4 : 2));
const ROUNDS = FULL ? 2 : 1;
const QUIET_MS = FULL ? 20_000 : 8_000;
/** How long a request already sent is followed after the load stops (above the 30 s in-progress timeout of a key). */
const FOLLOW_MS = 90_000;
/** Each service's front port (what clients call) and the replica the suite kills (the first; the only one on a single node). */
const SERVICES = SHAPE.services.map((s) => ({ name: s.name, front: s.front, victim: s.replicas[0], replicas: s.replicas }));
const front = (name) => `http://127.0.0.1:${SERVICES.find((s) => s.name === name).front}`;
/** A scale-out shape's infrastructure is started again through scale-out.sh (its ports, its .local/scale-out). */
const startCommand = (name) => (SCALED ? ['infra/local/scale-out.sh', 'component', name, 'start'] : [`infra/local/${name}.sh`, 'start']);
const INFRA = ['kafka', 'temporal', 'postgres'].map((name) => ({
  name,
  pidFile: join(SHAPE.local, 'run', `${SCALED && name === 'kafka' ? 'kafka-1' : name}.pid`),
  start: SCALED && name === 'kafka' ? ['infra/local/scale-out.sh', 'broker', 'start', '1'] : startCommand(name),
}));
const RUN_TAG = `fault-suite-${randomUUID().slice(0, 8)}`;
const pg = { host: '127.0.0.1', port: Number(process.env.PGPORT ?? SHAPE.postgres.port), user: 'sonet', password: 'sonet' };
const issuer = join(root, '.local/state/auth');
const log = (...a) => console.log(`[faults] ${a.join(' ')}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const pidOf = (pidFile) => Number(readFileSync(pidFile, 'utf8'));
const ready = async (port) => (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.status === 200;
const allReady = async () => (await Promise.all(SERVICES.flatMap((s) => s.replicas.map((r) => ready(r.port))))).every(Boolean);

async function until(what, probe, timeoutMs = 180_000) {
  const start = Date.now();
  while (!(await probe())) {
    if (Date.now() - start > timeoutMs) throw new Error(`no recovery within ${timeoutMs / 1000}s: ${what}`);
    await sleep(100);
  }
  return Date.now() - start;
}

/**
 * POSTs with an Idempotency-Key, again with the same key after a 5xx or a lost connection, until acknowledged. Once
 * sent, a request is followed to its answer even after the load stops (a GP system does not forget a request it made;
 * a process killed mid-request frees its key after the in-progress timeout), for at most FOLLOW_MS after the stop.
 */
async function acknowledged(url, token, body, stop) {
  if (stop.done) return undefined;
  const key = randomUUID();
  for (;;) {
    if (stop.done && Date.now() - stop.at > FOLLOW_MS) {
      log(`${url}: no answer ${FOLLOW_MS / 1000}s after the load stopped: not acknowledged`);
      return undefined;
    }
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
    }).catch(() => undefined);
    if (res && res.status < 300) return res.json();
    const problem = res && res.status < 500 ? await res.json() : undefined;
    // Only "the first request with this key is still running" is worth waiting for; any other refusal is an answer.
    if (problem && problem.type !== 'urn:sonet:problem:idempotency-key-in-progress') {
      log(`${url} answered ${res.status} ${problem.type}: not acknowledged`);
      return undefined;
    }
    await sleep(Number(res?.headers.get('retry-after') ?? 1) * 1000);
  }
}

/** Whether the audit log holds the request of referral `id` (false while PostgreSQL cannot be reached). */
async function requestAudited(id) {
  const db = new Pg({ ...pg, database: 'audit' });
  try {
    await db.connect();
    const rows = await db.query(`select 1 from audit_entry where subject = $1 and event_type like 'referral.requested.%'`, [id]);
    return rows.rowCount > 0;
  } catch {
    return false;
  } finally {
    await db.end().catch(() => undefined);
  }
}

/** A referral request, acknowledged (202) or undefined. */
const request = (tokens, reason, stop) =>
  acknowledged(
    `${front('referral')}/v1/referrals`,
    tokens.gp,
    {
      patient: { nhsNumber: '9994000047', name: 'Fault Suite', email: 'fault.suite@example.org', preferredChannel: 'email' },
      originalTeamId: 'RJ122-CARD',
      specialty: 'cardiology',
      urgency: 'routine',
      reason,
      explainedByOriginalTeam: true,
      recordsSharingConsent: false,
    },
    stop,
  );

/** One GP system: requests a referral and refers it to another team, again and again, recording what was acknowledged. */
async function client(n, tokens, acks, stop) {
  while (!stop.done) {
    const created = await request(tokens, `${RUN_TAG} client ${n}`, stop);
    if (!created) continue;
    acks.requested.add(created.id);
    const referred = await acknowledged(
      `${front('referral')}/v1/referrals/${created.id}/gp-decision`,
      tokens.gp,
      { decision: 'refer', targetTeamId: 'RTH01-CARD' },
      stop,
    );
    if (referred) acks.referred.add(created.id);
  }
}

/** SIGKILLs a service's process (one replica of it in the scale-out shape); recovered when its supervisor's new one is ready. */
async function killService({ id, port, pidFile }) {
  const before = pidOf(pidFile);
  process.kill(before, 'SIGKILL');
  return until(`${id} back after SIGKILL`, async () => pidOf(pidFile) !== before && (await ready(port)));
}

/**
 * Scale-out shape: SIGKILLs replica 1 of a service and times two things from the kill: the service answering through
 * its front port meanwhile (for referral, a new referral acknowledged there and audited: the other replica carries
 * the load) and the killed replica back and ready.
 */
async function killReplica({ name, front: port, victim, replicas }, tokens, acks, stop) {
  const killed = Date.now();
  const before = pidOf(victim.pidFile);
  process.kill(before, 'SIGKILL');
  if (name === 'referral') await probeAudited(`with ${victim.id} down`, tokens, acks, stop);
  else await until(`${name} answering on its front port with ${victim.id} down`, () => ready(port));
  const served = Date.now() - killed;
  await until(`${victim.id} back after SIGKILL`, async () => pidOf(victim.pidFile) !== before && (await ready(victim.port)));
  const of = `replica 1 of ${replicas.length}`;
  return [
    {
      fault: `SIGKILL ${victim.id} (${of}): ${name === 'referral' ? 'a new referral audited' : 'answering'} through the front`,
      ms: served,
    },
    { fault: `SIGKILL ${victim.id} (${of}): the replica back and ready`, ms: Date.now() - killed },
  ];
}

/** A new referral (acknowledged, so the arithmetic covers it) with its request audited: effects flow end to end. */
async function probeAudited(what, tokens, acks, stop) {
  const probe = await request(tokens, `${RUN_TAG} probe ${what}`, stop);
  if (!probe) throw new Error(`no referral acknowledged ${what}`);
  acks.requested.add(probe.id);
  await until(`a new referral audited ${what}`, () => requestAudited(probe.id));
}

/**
 * Kills an infrastructure server and starts it again; recovered means effects flow again, not only that the services
 * answer their readiness probe: a new referral (acknowledged like the clients' ones, so the arithmetic covers it) has
 * its request audited. Timed from the moment the server was started again.
 */
async function killInfra({ name, pidFile, start }, tokens, acks, stop) {
  process.kill(pidOf(pidFile), 'SIGKILL');
  await sleep(2_000);
  execFileSync(
    'bash',
    start.map((a, i) => (i === 0 ? join(root, a) : a)),
    { stdio: 'ignore', cwd: root },
  );
  const started = Date.now();
  await until(`the services ready after ${name} came back`, allReady);
  await probeAudited(`after ${name} came back`, tokens, acks, stop);
  return Date.now() - started;
}

/** Partitions whose in-sync replicas are fewer than their replicas (scale-out shape), or undefined while unreadable. */
async function underReplicated() {
  const kafka = new Kafka({
    clientId: 'fault-suite',
    brokers: SHAPE.kafka.nodes.map((n) => `127.0.0.1:${n.port}`),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2_000,
    retry: { retries: 2 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const { topics } = await admin.fetchTopicMetadata();
    return topics.flatMap((t) => t.partitions.filter((p) => p.isr.length < p.replicas.length).map((p) => `${t.name}/${p.partitionId}`));
  } catch {
    return undefined;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Scale-out shape: SIGKILLs Kafka node 1 and times how soon a new referral is audited with two nodes left (the
 * partitions it led move to the others; writes need 2 of 3 in sync), keeps the load on two nodes for a quiet period,
 * then starts it again and times until every partition has its 3 replicas in sync.
 */
async function killBroker(node, tokens, acks, stop) {
  const killed = Date.now();
  process.kill(pidOf(node.pidFile), 'SIGKILL');
  await probeAudited(`with Kafka node ${node.id} down`, tokens, acks, stop);
  const servedWithout = Date.now() - killed;
  await sleep(QUIET_MS);
  execFileSync('bash', [join(root, 'infra/local/scale-out.sh'), 'broker', 'start', String(node.id)], { stdio: 'ignore', cwd: root });
  const started = Date.now();
  await until(`Kafka node ${node.id} back in every partition's in-sync replicas`, async () => (await underReplicated())?.length === 0);
  return [
    { fault: `SIGKILL Kafka node ${node.id} of ${SHAPE.kafka.nodes.length}: a new referral audited without it`, ms: servedWithout },
    { fault: `start Kafka node ${node.id} again: every partition in sync`, ms: Date.now() - started },
  ];
}

async function settle(acks) {
  const db = new Pg({ ...pg, database: 'referral' });
  await db.connect();
  const referred = [...acks.referred];
  await until(
    'acknowledged referrals recorded as referred',
    async () =>
      Number(
        (await db.query(`select count(*) from referral where id = any($1) and state <> 'gp-review' and state <> 'requested'`, [referred]))
          .rows[0].count,
      ) === referred.length,
    120_000,
  ).catch((e) => log(String(e.message)));
  await db.end();
  await sleep(QUIET_MS);
}

async function observe() {
  const q = async (database, sql, params) => {
    const db = new Pg({ ...pg, database });
    await db.connect();
    try {
      return (await db.query(sql, params)).rows;
    } finally {
      await db.end();
    }
  };
  const referrals = await q('referral', `select id, state from referral where reason like $1`, [`${RUN_TAG}%`]);
  const ids = referrals.map((r) => r.id);
  const audit = await q('audit', `select subject, event_type from audit_entry where subject = any($1)`, [ids]);
  const notifications = await q(
    'notification',
    `select referral_id, causation_event_type, recipient_role, template from notification where referral_id = any($1)`,
    [ids],
  );
  const auditor = mintDevToken(issuer, { role: 'auditor', organisation: 'X26', subject: 'fault-suite' });
  const verify = await (await fetch(`${front('audit')}/v1/audit/verify`, { headers: { authorization: `Bearer ${await auditor}` } })).json();
  return { referrals, audit, notifications, chainOk: verify.ok === true };
}

async function main() {
  if (!(await allReady())) throw new Error('the network is not running: npm start first');
  const tokens = { gp: await mintDevToken(issuer, { role: 'gp', organisation: 'A81001', subject: 'fault-suite' }) };
  const acks = { requested: new Set(), referred: new Set() };
  const stop = { done: false };
  const load = Array.from({ length: CLIENTS }, (_, n) => client(n, tokens, acks, stop));
  const recoveries = [];
  const scope = NO_FAULTS
    ? 'no faults'
    : ONLY_SERVICES
      ? 'services only'
      : SCALED
        ? 'one replica of each service, then a Kafka node, Temporal, PostgreSQL'
        : 'services, then Kafka, Temporal, PostgreSQL';
  log(`run ${RUN_TAG}: ${SHAPE.name} shape, ${CLIENTS} clients, ${ROUNDS} round(s), ${scope}`);
  for (let round = 0; round < (NO_FAULTS ? 0 : ROUNDS); round++) {
    for (const service of SERVICES) {
      await sleep(QUIET_MS);
      if (service.replicas.length > 1) {
        for (const r of await killReplica(service, tokens, acks, stop)) {
          recoveries.push(r);
          log(recoveryLine(r));
        }
        continue;
      }
      recoveries.push({ fault: `SIGKILL ${service.name}`, ms: await killService(service.victim) });
      log(recoveryLine(recoveries.at(-1)));
    }
    for (const infra of ONLY_SERVICES ? [] : INFRA) {
      await sleep(QUIET_MS);
      if (SCALED && infra.name === 'kafka' && SHAPE.kafka.nodes.length > 1) {
        for (const r of await killBroker(SHAPE.kafka.nodes[0], tokens, acks, stop)) {
          recoveries.push(r);
          log(recoveryLine(r));
        }
        continue;
      }
      recoveries.push({ fault: `kill and restart ${infra.name}`, ms: await killInfra(infra, tokens, acks, stop) });
      log(recoveryLine(recoveries.at(-1)));
    }
  }
  await sleep(QUIET_MS);
  Object.assign(stop, { done: true, at: Date.now() });
  await Promise.all(load);
  await settle(acks);
  const result = compare(acks, await observe());
  for (const line of result.lines) log(line);
  log(`${result.lost} lost, ${result.duplicated} duplicated`);
  process.exitCode = result.lost + result.duplicated > 0 || !result.chainOk ? 1 : 0;
}

main().catch((e) => {
  console.error(`[faults] failed: ${e.stack ?? e}`);
  process.exitCode = 1;
});
