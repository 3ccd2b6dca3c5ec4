// Fault suite (issue 13): referrals in flight while each service is SIGKILLed and Kafka, Temporal and PostgreSQL are
// killed and started again; afterwards, set arithmetic over every acknowledged request: 0 lost, 0 duplicated, and the
// recovery time of each fault. Needs the network running (`npm start`); see test/reliability/README.md.
//
//   npm run faults            bounded: 2 clients, each fault once, ~3-4 min
//   npm run faults:full       FAULTS_FULL=1: 4 clients, every fault twice, longer quiet periods
//   FAULTS_ONLY=services      only the service kills (Kafka, Temporal and PostgreSQL are left alone)
//   FAULTS_ONLY=none          no fault at all: the load and the arithmetic on a healthy network (kills nothing)
//
// It kills the processes of the network this checkout runs (.local/run/*.pid): never run it against a network others
// are testing against.
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
const SERVICES = { referral: 8081, 'records-transfer': 8082, notification: 8083, audit: 8084 };
const INFRA = ['kafka', 'temporal', 'postgres'];
const RUN_TAG = `fault-suite-${randomUUID().slice(0, 8)}`;
const pg = { host: '127.0.0.1', port: Number(process.env.PGPORT ?? 5432), user: 'sonet', password: 'sonet' };
const issuer = join(root, '.local/state/auth');
const log = (...a) => console.log(`[faults] ${a.join(' ')}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const pidOf = (name) => Number(readFileSync(join(root, '.local/run', `${name}.pid`), 'utf8'));
const ready = async (port) => (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.status === 200;
const allReady = async () => (await Promise.all(Object.values(SERVICES).map(ready))).every(Boolean);

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
    'http://127.0.0.1:8081/v1/referrals',
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
      `http://127.0.0.1:8081/v1/referrals/${created.id}/gp-decision`,
      tokens.gp,
      { decision: 'refer', targetTeamId: 'RTH01-CARD' },
      stop,
    );
    if (referred) acks.referred.add(created.id);
  }
}

async function killService(name, port) {
  const before = pidOf(name);
  process.kill(before, 'SIGKILL');
  return until(`${name} back after SIGKILL`, async () => pidOf(name) !== before && (await ready(port)));
}

/**
 * Kills an infrastructure server and starts it again; recovered means effects flow again, not only that the services
 * answer their readiness probe: a new referral (acknowledged like the clients' ones, so the arithmetic covers it) has
 * its request audited. Timed from the moment the server was started again.
 */
async function killInfra(name, tokens, acks, stop) {
  process.kill(pidOf(name), 'SIGKILL');
  await sleep(2_000);
  execFileSync('bash', [join(root, `infra/local/${name}.sh`), 'start'], { stdio: 'ignore' });
  const started = Date.now();
  await until(`the services ready after ${name} came back`, allReady);
  const probe = await request(tokens, `${RUN_TAG} probe after ${name}`, stop);
  if (!probe) throw new Error(`no referral acknowledged after ${name} came back`);
  acks.requested.add(probe.id);
  await until(`a new referral audited after ${name} came back`, () => requestAudited(probe.id));
  return Date.now() - started;
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
  const verify = await (
    await fetch('http://127.0.0.1:8084/v1/audit/verify', { headers: { authorization: `Bearer ${await auditor}` } })
  ).json();
  return { referrals, audit, notifications, chainOk: verify.ok === true };
}

async function main() {
  if (!(await allReady())) throw new Error('the network is not running: npm start first');
  const tokens = { gp: await mintDevToken(issuer, { role: 'gp', organisation: 'A81001', subject: 'fault-suite' }) };
  const acks = { requested: new Set(), referred: new Set() };
  const stop = { done: false };
  const load = Array.from({ length: CLIENTS }, (_, n) => client(n, tokens, acks, stop));
  const recoveries = [];
  const scope = NO_FAULTS ? 'no faults' : ONLY_SERVICES ? 'services only' : 'services, then Kafka, Temporal, PostgreSQL';
  log(`run ${RUN_TAG}: ${CLIENTS} clients, ${ROUNDS} round(s), ${scope}`);
  for (let round = 0; round < (NO_FAULTS ? 0 : ROUNDS); round++) {
    for (const [name, port] of Object.entries(SERVICES)) {
      await sleep(QUIET_MS);
      recoveries.push({ fault: `SIGKILL ${name}`, ms: await killService(name, port) });
      log(recoveryLine(recoveries.at(-1)));
    }
    for (const name of ONLY_SERVICES ? [] : INFRA) {
      await sleep(QUIET_MS);
      recoveries.push({ fault: `kill and restart ${name}`, ms: await killInfra(name, tokens, acks, stop) });
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
