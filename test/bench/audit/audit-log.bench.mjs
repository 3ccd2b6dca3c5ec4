// Audit log benchmark: `npm run bench:audit` (BENCH_ENTRIES=10000000 by default; BENCH_ENTRIES=1000000 for a quick run).
// Loads synthetic entries (a generator, not the live pipeline) through the service's own write path (AuditLog.appendBatch,
// as the audit_writer role), then COPYs the very same rows into an identical, empty schema; times referral-timeline and
// patient queries through the service's query handlers (SQL, view mapping and the access record they write); and verifies
// the chain beside raw SHA-256 over the same canonical bytes. Drops its databases and files at the end.
import { createRequire } from 'node:module';
import { createHash, generateKeyPairSync, hash, randomBytes, randomUUID } from 'node:crypto';
import { rmSync, mkdtempSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const require = createRequire(import.meta.url);
const dist = (p) => require(join(root, 'dist', p));
const { Client } = require('pg');
const { MikroORM } = require('@mikro-orm/postgresql');
const { runMigrations } = dist('libs/service-kit/src/index.js');
const { readAuditConfig } = dist('services/audit/src/config.js');
const { auditOrmOptions, auditOwnerOrmOptions } = dist('services/audit/src/orm.js');
const { AuditLog } = dist('services/audit/src/domain/audit-log.js');
const { CheckpointSigner, CheckpointKeyring } = dist('services/audit/src/domain/checkpoint.js');
const { PatientKeyer } = dist('services/audit/src/domain/patient-identifiers.js');
const { ReferralTimelineHandler } = dist('services/audit/src/referral-timeline/referral-timeline.handler.js');
const { QueryEventsHandler, parseEventsSearch } = dist('services/audit/src/query-events/query-events.handler.js');
const { verifyOffThread } = dist('services/audit/src/verify-log/verify-runner.js');
const { streamEntries } = dist('services/audit/src/infrastructure/entry-stream.js');

const N = Number(process.env.BENCH_ENTRIES ?? 10_000_000);
const PER_REFERRAL = 10;
const REFERRALS = Math.ceil(N / PER_REFERRAL);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 2000);
const pg = {
  host: process.env.PGHOST ?? '127.0.0.1',
  port: Number(process.env.PGPORT ?? 5432),
  user: process.env.PGUSER ?? 'sonet',
  password: process.env.PGPASSWORD ?? 'sonet',
};
const suffix = randomBytes(4).toString('hex');
const DB = `bench_audit_${suffix}`;
const DB_COPY = `bench_audit_copy_${suffix}`;
const dir = mkdtempSync(join(tmpdir(), 'bench-audit-'));
const log = (...a) => console.log(`[bench] ${a.join(' ')}`);
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function admin(sql) {
  const c = new Client({ ...pg, database: 'postgres' });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A valid test-range NHS number per patient index. */
function nhsOf(i) {
  for (let k = 0; ; k++) {
    const nine = `999${String((i * 7 + k) % 1_000_000).padStart(6, '0')}`;
    let sum = 0;
    for (let j = 0; j < 9; j++) sum += Number(nine[j]) * (10 - j);
    const check = 11 - (sum % 11);
    if (check !== 10) return `${nine}${check === 11 ? 0 : check}`;
  }
}

const ORGS = ['RJ1', 'RXH', 'RTH', 'RGT', 'R1H', 'RRV', 'RAL', 'RYJ'];
const PRACTICES = Array.from({ length: 2000 }, (_, i) => `A${String(81000 + i).padStart(5, '0')}`);
const KINDS = [
  'referral.requested.v1',
  'records.transfer-requested.v1',
  'records.transfer-queued.v1',
  'notification.sent.v1',
  'referral.referred.v1',
  'access.recorded.v1',
  'access.recorded.v1',
  'notification.sent.v1',
  'access.recorded.v1',
  'access.recorded.v1',
];
const T0 = Date.UTC(2025, 0, 1);
const YEAR_S = 335 * 86400;

function generator() {
  // 1M referrals over ~11 months; each has 10 events over its first 30 days; the stream is ordered by hour.
  const refIds = Array.from({ length: REFERRALS }, () => randomUUID());
  const start = new Float64Array(REFERRALS);
  for (let r = 0; r < REFERRALS; r++) start[r] = Math.floor(Math.random() * YEAR_S);
  const total = REFERRALS * PER_REFERRAL;
  const t = new Uint32Array(total);
  for (let r = 0; r < REFERRALS; r++)
    for (let k = 0; k < PER_REFERRAL; k++) t[r * PER_REFERRAL + k] = start[r] + (k === 0 ? 0 : Math.floor(Math.random() * 30 * 86400));
  const hours = Math.ceil((YEAR_S + 31 * 86400) / 3600);
  const counts = new Uint32Array(hours + 1);
  for (let i = 0; i < total; i++) counts[Math.floor(t[i] / 3600) + 1]++;
  for (let h = 1; h <= hours; h++) counts[h] += counts[h - 1];
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[counts[Math.floor(t[i] / 3600)]++] = i;
  return { refIds, t, order: order.subarray(0, N), patientOf: (r) => (r % 3 === 0 ? r - (r % 3) : r) }; // some patients have 2-3 referrals
}

function draftOf(g, i) {
  const r = Math.floor(i / PER_REFERRAL);
  const k = i % PER_REFERRAL;
  const type = KINDS[k];
  const subject = g.refIds[r];
  const time = new Date((T0 / 1000 + g.t[i]) * 1000).toISOString();
  const org = ORGS[r % ORGS.length];
  let data;
  if (type === 'referral.requested.v1') {
    data = {
      referralId: subject,
      referringPractice: PRACTICES[r % PRACTICES.length],
      originalTeam: { ods: `${org}22`, name: 'Cardiology, St Elsewhere Hospital' },
      specialty: 'cardiology',
      urgency: r % 10 === 0 ? 'urgent' : 'routine',
      reason: 'Would like another view on the treatment plan and the proposed valve replacement.',
      explainedByOriginalTeam: true,
      patient: { nhsNumber: nhsOf(g.patientOf(r)), name: 'Synthetic Patient', email: `p${r}@example.org`, preferredChannel: 'email' },
      requestedAt: time,
    };
  } else if (type === 'access.recorded.v1') {
    data = {
      accessId: randomUUID(),
      referralId: subject,
      actor: { subject: `user-${(r * 7 + k) % 20000}`, role: 'clinician', organisation: ORGS[(r + k) % ORGS.length] },
      purpose: 'direct-care',
      resource: { service: 'referral', kind: 'referral', action: 'read' },
      accessedAt: time,
    };
  } else if (type.startsWith('records.')) {
    data = {
      referralId: subject,
      transferId: randomUUID(),
      sourceOrganisation: org,
      targetOrganisation: ORGS[(r + 1) % ORGS.length],
      documentKinds: ['test-results', 'imaging'],
      status: 'ready',
      queuedAt: time,
    };
  } else if (type === 'notification.sent.v1') {
    data = {
      notificationId: randomUUID(),
      referralId: subject,
      causationEventId: randomUUID(),
      recipientRole: 'patient',
      channel: 'email',
      template: 'patient-acknowledgement',
      sentAt: time,
    };
  } else {
    data = {
      referralId: subject,
      secondOpinion: true,
      referringPractice: PRACTICES[r % PRACTICES.length],
      originalTeam: { ods: org, name: 'Cardiology' },
      targetTeam: { ods: ORGS[(r + 2) % ORGS.length], name: 'Cardiology' },
      specialty: 'cardiology',
      urgency: 'routine',
      triageDueAt: time,
      attempt: 1,
    };
  }
  const id = randomUUID();
  const payload = Buffer.from(JSON.stringify(data));
  return {
    eventId: id,
    eventType: type,
    source: `/sonet/${type.split('.')[0]}`,
    subject,
    eventTime: time,
    topic: `${type.split('.')[0]}.events.v1`,
    partition: r % 6,
    kafkaOffset: String(i),
    headers: {
      ce_specversion: '1.0',
      ce_id: id,
      ce_type: type,
      ce_source: '/sonet/x',
      ce_subject: subject,
      ce_time: time,
      'content-type': 'application/json',
      traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
    },
    data,
    payload,
  };
}

async function main() {
  log(`entries ${N.toLocaleString()} over ${REFERRALS.toLocaleString()} referrals; batch ${BATCH}; ${QUERIES} queries each`);
  await admin(`create database ${DB}`);
  await admin(`create database ${DB_COPY}`);
  const keyFile = join(dir, 'key.pem');
  writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const base = {
    NODE_ENV: 'test',
    PGHOST: pg.host,
    PGPORT: String(pg.port),
    PGOWNER_USER: pg.user,
    PGOWNER_PASSWORD: pg.password,
    AUDIT_CHECKPOINT_KEY_FILE: keyFile,
    LOG_LEVEL: 'warn',
  };
  const config = readAuditConfig({ ...base, PGDATABASE: DB });
  const copyConfig = readAuditConfig({ ...base, PGDATABASE: DB_COPY });
  await runMigrations(auditOwnerOrmOptions(config));
  await runMigrations(auditOwnerOrmOptions(copyConfig));
  const orm = await MikroORM.init({ ...auditOrmOptions(config), pool: { min: 1, max: 4 } });
  const signer = CheckpointSigner.fromPemFile(keyFile);
  const keyer = new PatientKeyer(config.AUDIT_PATIENT_KEY_SECRET);
  let clock = new Date(T0);
  const auditLog = new AuditLog({ chain: config.AUDIT_CHAIN, checkpointEvery: 1000, keyer, signer, clock: () => clock });

  // 1. The service's write path.
  const g = generator();
  let writeMs = 0;
  const wall = Date.now();
  for (let s = 0; s < N; s += BATCH) {
    const idx = g.order.subarray(s, Math.min(N, s + BATCH));
    const drafts = Array.from(idx, (i) => draftOf(g, i));
    clock = new Date(T0 + g.t[idx[idx.length - 1]] * 1000);
    const t0 = performance.now();
    await orm.em.fork().transactional((em) => auditLog.appendBatch(em, drafts));
    writeMs += performance.now() - t0;
    if (s % (BATCH * 200) === 0 && s > 0) log(`  ${s.toLocaleString()} appended, ${Math.round(s / (writeMs / 1000)).toLocaleString()}/s`);
  }
  const writeRate = N / (writeMs / 1000);
  log(
    `service write path: ${Math.round(writeRate).toLocaleString()} entries/s (time in appendBatch ${(writeMs / 1000).toFixed(1)} s; wall incl. generator ${((Date.now() - wall) / 1000).toFixed(1)} s)`,
  );

  // 2. Raw COPY of the same rows into the identical, empty schema (partitions created first, outside the timing).
  const own = new Client({ ...pg, database: DB });
  await own.connect();
  const copyFile = join('/tmp', `bench-audit-${suffix}.copy`);
  const idsFile = join('/tmp', `bench-audit-${suffix}.ids`);
  await own.query(
    `copy (select seq, recorded_at, event_id, event_type, subject, event_time, actor, organisations, patient_key, canonical, prev_hash, hash from audit_entry order by recorded_at, seq) to '${copyFile}' (format binary)`,
  );
  await own.query(`copy audit_event_id to '${idsFile}' (format binary)`);
  const months = (await own.query(`select distinct date_trunc('month', recorded_at) as m from audit_entry`)).rows;
  const cp = new Client({ ...pg, database: DB_COPY });
  await cp.connect();
  for (const m of months) await cp.query('select audit_ensure_partition($1)', [m.m]);
  const c0 = performance.now();
  await cp.query(
    `copy audit_entry (seq, recorded_at, event_id, event_type, subject, event_time, actor, organisations, patient_key, canonical, prev_hash, hash) from '${copyFile}' (format binary)`,
  );
  await cp.query(`copy audit_event_id from '${idsFile}' (format binary)`);
  const copyRate = N / ((performance.now() - c0) / 1000);
  log(`raw PostgreSQL COPY of the same rows: ${Math.round(copyRate).toLocaleString()} entries/s`);
  log(`ingest ratio (service / COPY): ${(writeRate / copyRate).toFixed(2)} (target >= 0.3)`);
  await cp.end();
  rmSync(copyFile, { force: true });
  rmSync(idsFile, { force: true });
  await own.query('analyze');

  // 3. Queries through the service's handlers (SQL + mapping + the access record each read writes).
  const principal = { subject: 'bench-auditor', role: 'auditor', organisation: 'X26' };
  const timeline = new ReferralTimelineHandler(orm.em);
  const search = new QueryEventsHandler(orm.em, keyer);
  const lat = async (fn) => {
    const out = [];
    for (let q = 0; q < QUERIES; q++) {
      const t0 = performance.now();
      await fn(q);
      out.push(performance.now() - t0);
    }
    return out.sort((a, b) => a - b);
  };
  for (let w = 0; w < 50; w++) await timeline.execute(g.refIds[w], principal);
  const tl = await lat(() => timeline.execute(g.refIds[Math.floor(Math.random() * REFERRALS)], principal));
  log(
    `referral timeline: p50 ${pct(tl, 50).toFixed(2)} ms, p99 ${pct(tl, 99).toFixed(2)} ms (${QUERIES} random referrals, ~${PER_REFERRAL} entries each)`,
  );
  const pt = await lat(() =>
    search.execute(parseEventsSearch({ nhsNumber: nhsOf(g.patientOf(Math.floor(Math.random() * REFERRALS))) }), principal),
  );
  log(`patient query (POST search by NHS number): p50 ${pct(pt, 50).toFixed(2)} ms, p99 ${pct(pt, 99).toFixed(2)} ms`);

  // 4. Verify (as GET /v1/audit/verify and `audit verify` run it: in a worker thread, as the service's role) beside raw
  //    SHA-256 over the same canonical bytes. The copy database is dropped first: it is done with, and its 10 GB would
  //    otherwise crowd the verified one out of the page cache.
  await admin(`drop database if exists ${DB_COPY} with (force)`);
  const reader = new Client({ ...pg, database: DB, user: config.PGUSER, password: config.PGPASSWORD });
  await reader.connect();
  const v0 = performance.now();
  const v = await verifyOffThread(
    { ...pg, database: DB, user: config.PGUSER, password: config.PGPASSWORD },
    { chain: config.AUDIT_CHAIN, keyring: CheckpointKeyring.fromPem(signer.publicKeyPem()) },
  );
  const verifyMs = performance.now() - v0; // wall time, worker start included
  const verifyRate = v.entries / (verifyMs / 1000);
  // The ceiling for any verifier on this machine: PostgreSQL sending the same columns, in the same order, to psql,
  // which throws them away (no parsing, no hashing).
  const copyOutSql = `copy (select seq, prev_hash, hash, canonical from audit_entry order by recorded_at, seq) to stdout (format binary)`;
  const o0 = performance.now();
  const psql = spawnSync(
    'psql',
    ['-X', '-q', '-h', pg.host, '-p', String(pg.port), '-U', config.PGUSER, '-d', DB, '-c', 'set jit = off', '-c', copyOutSql],
    { env: { ...process.env, PGPASSWORD: config.PGPASSWORD }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const copyOutRate = psql.status === 0 ? N / ((performance.now() - o0) / 1000) : NaN;
  log(
    `verify: ${v.ok ? 'ok' : `BROKEN at ${v.firstBreak?.seq}`}, ${v.entries.toLocaleString()} entries, ${v.checkpointsChecked} checkpoints, ${(verifyMs / 1000).toFixed(1)} s = ${Math.round(verifyRate).toLocaleString()} entries/s`,
  );
  const sample = [];
  let bytes = 0;
  const SAMPLE = Math.min(N, 1_000_000);
  await streamEntries(reader, `where seq <= ${SAMPLE}`, (seq, buf, _p, _h, start, end) => {
    sample.push(Buffer.from(buf.subarray(start, end)));
    bytes += end - start;
  });
  // The raw figure is the fastest of Node's ways to SHA-256 each entry's bytes (the digest's output form costs more
  // than the hashing for short inputs); the verifier uses the same fastest form. Best of three rounds each.
  const forms = {
    "crypto.hash(..., 'binary')": (b) => hash('sha256', b, 'binary'),
    "crypto.hash(..., 'buffer')": (b) => hash('sha256', b, 'buffer'),
    'createHash().update().digest()': (b) => createHash('sha256').update(b).digest(),
  };
  let rawRate = 0;
  for (const [name, fn] of Object.entries(forms)) {
    let best = 0;
    for (let round = 0; round < 3; round++) {
      const h0 = performance.now();
      for (const b of sample) fn(b);
      best = Math.max(best, sample.length / ((performance.now() - h0) / 1000));
    }
    log(`raw Node SHA-256, ${name}: ${Math.round(best).toLocaleString()} entries/s`);
    rawRate = Math.max(rawRate, best);
  }
  log(
    `raw Node SHA-256 over the same canonical bytes (fastest form): ${Math.round(rawRate).toLocaleString()} entries/s (${sample.length.toLocaleString()} entries, avg ${Math.round(bytes / sample.length)} bytes, in memory)`,
  );
  log(`verify ratio (verify / raw SHA-256): ${(verifyRate / rawRate).toFixed(2)} (target >= 0.5)`);
  log(
    `ceiling: PostgreSQL COPY of the verified columns to psql, discarded: ${Math.round(copyOutRate).toLocaleString()} entries/s = ${(copyOutRate / rawRate).toFixed(2)} of raw SHA-256; verify reaches ${(verifyRate / copyOutRate).toFixed(2)} of it`,
  );
  const size = (await own.query(`select pg_size_pretty(pg_database_size(current_database())) as s`)).rows[0].s;
  log(`database size: ${size}`);
  await reader.end();
  await own.end();
  await orm.close(true);
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (process.env.BENCH_KEEP) return log(`kept database ${DB}`);
    await admin(`drop database if exists ${DB} with (force)`).catch(() => undefined);
    await admin(`drop database if exists ${DB_COPY} with (force)`).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
