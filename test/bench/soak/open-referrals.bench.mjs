// Memory soak: `npm run bench:soak` against the running network (`npm start`). Prints figures, asserts nothing.
//
// Leaves BENCH_SOAK_REFERRALS (default 10,000) referrals open — requested and referred, each waiting in triage with
// its workflow running and its timers set — from BENCH_SOAK_CLIENTS (default 16) closed-loop GP clients, and samples
// the resident memory (VmRSS) of each service's process every BENCH_SOAK_SAMPLE_SECONDS (default 10). Then it waits
// BENCH_SOAK_SETTLE_SECONDS (default 120) with nothing arriving and samples again.
// Prints, per service: RSS when the soak starts, its peak during the warm-up (the worker's workflow cache full and at
// least a tenth of the referrals: caches, pools and JIT filled), at the end, its peak after the warm-up, after settling,
// the trend after the warm-up (least-squares MiB per 1,000 open referrals), and whether the peak after the warm-up
// stayed within the envelope (docs/scaling.md: the warm-up peak + 64 MiB). The worker's
// workflow cache is bounded (TEMPORAL_MAX_CACHED_WORKFLOWS, default 1000): referrals beyond it wait in Temporal's
// history, not in the referral service's memory.
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const require = createRequire(import.meta.url);
const { testTokens, randomTestNhsNumber } = require(join(root, 'dist/libs/testing/src/index.js'));

const TOTAL = Number(process.env.BENCH_SOAK_REFERRALS ?? 10_000);
const CLIENTS = Number(process.env.BENCH_SOAK_CLIENTS ?? 16);
const SAMPLE_MS = Number(process.env.BENCH_SOAK_SAMPLE_SECONDS ?? 10) * 1000;
const SETTLE_MS = Number(process.env.BENCH_SOAK_SETTLE_SECONDS ?? 120) * 1000;
/** The documented envelope (docs/scaling.md): growth past the warm-up RSS that still counts as flat. */
const ENVELOPE_MIB = Number(process.env.BENCH_SOAK_ENVELOPE_MIB ?? 64);
const REFERRAL_API = process.env.REFERRAL_API_URL ?? 'http://127.0.0.1:8081';
const SERVICES = ['referral', 'records-transfer', 'notification', 'audit'];
const log = (...a) => console.log(`[soak] ${a.join(' ')}`);

/** RSS (MiB) of each service's process, by the pid file the network keeps (the supervisor restarts under a new pid). */
function rss() {
  return Object.fromEntries(
    SERVICES.map((s) => {
      try {
        const pid = readFileSync(join(root, '.local/run', `${s}.pid`), 'utf8').trim();
        const kib = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
        return [s, kib ? Number(kib[1]) / 1024 : NaN];
      } catch {
        return [s, NaN];
      }
    }),
  );
}

const tokens = await testTokens(join(root, '.local/state/auth'));
const gp = await tokens.bearer('gp', 'A81001');
const headers = { 'content-type': 'application/json', ...gp };

async function post(path, body) {
  for (;;) {
    const res = await fetch(`${REFERRAL_API}${path}`, {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': body.key },
      body: JSON.stringify(body.payload),
    }).catch(() => undefined);
    if (res?.ok) return res.json();
    if (res && res.status < 500 && res.status !== 409) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
    await sleep(Number(res?.headers.get('retry-after') ?? 1) * 1000);
  }
}

const request = () => ({
  key: randomBytes(16).toString('hex'),
  payload: {
    patient: {
      nhsNumber: randomTestNhsNumber(),
      name: 'Soak Patient',
      email: `soak-${randomBytes(6).toString('hex')}@patients.example`,
      preferredChannel: 'email',
    },
    originalTeamId: 'RJ122-CARD',
    specialty: 'cardiology',
    reason: 'Soak: left open in triage.',
    urgency: 'routine',
    explainedByOriginalTeam: true,
    recordsSharingConsent: false,
  },
});

let opened = 0;
let next = 0;
async function client() {
  while (next < TOTAL) {
    next++;
    const { id } = await post('/v1/referrals', request());
    await post(`/v1/referrals/${id}/gp-decision`, {
      key: randomBytes(16).toString('hex'),
      payload: { decision: 'refer', targetTeamId: 'RTH01-CARD' },
    });
    opened++;
  }
}

const samples = [{ at: 0, opened: 0, rss: rss() }];
const started = Date.now();
const sampler = setInterval(() => {
  samples.push({ at: Date.now() - started, opened, rss: rss() });
  const last = samples.at(-1);
  log(`${opened} open after ${(last.at / 1000).toFixed(0)} s: ${SERVICES.map((s) => `${s} ${last.rss[s].toFixed(0)} MiB`).join('  ')}`);
}, SAMPLE_MS);
log(`leaving ${TOTAL} referrals open with ${CLIENTS} clients; RSS every ${SAMPLE_MS / 1000} s`);
await Promise.all(Array.from({ length: CLIENTS }, client));
clearInterval(sampler);
const end = { at: Date.now() - started, opened, rss: rss() };
samples.push(end);
log(
  `${opened} referrals open in ${(end.at / 1000).toFixed(0)} s (${((opened / end.at) * 1000).toFixed(1)}/s); settling ${SETTLE_MS / 1000} s`,
);
await sleep(SETTLE_MS);
const settled = rss();

// Warm-up: the worker's workflow cache full (each open referral's workflow stays cached until evicted), and at least a
// tenth of the run. Before that the referral service grows by design, up to the cache's bound. RSS swings by a
// hundred MiB or more with garbage collection, so levels are peaks: the warm-up level is the peak up to that point,
// and the process is flat when its peak after it stays within the envelope above that level. The trend is the
// least-squares slope of RSS over open referrals after the warm-up.
const CACHE = Number(process.env.TEMPORAL_MAX_CACHED_WORKFLOWS ?? 1000);
const warmAt = Math.min(TOTAL, Math.max(TOTAL / 10, 1.5 * CACHE));
const before = samples.filter((x) => x.opened < warmAt);
const after = samples.filter((x) => x.opened >= warmAt);
const peakOf = (xs, s) => Math.max(...xs.map((x) => x.rss[s]).filter(Number.isFinite));
const slopePer1000 = (xs, s) => {
  const pts = xs.filter((x) => Number.isFinite(x.rss[s]));
  const mx = pts.reduce((a, x) => a + x.opened, 0) / pts.length;
  const my = pts.reduce((a, x) => a + x.rss[s], 0) / pts.length;
  const num = pts.reduce((a, x) => a + (x.opened - mx) * (x.rss[s] - my), 0);
  const den = pts.reduce((a, x) => a + (x.opened - mx) ** 2, 0);
  return den > 0 ? (num / den) * 1000 : NaN;
};
console.log(`\nRSS per service (MiB), ${TOTAL} referrals left open; envelope: warm-up peak + ${ENVELOPE_MIB} MiB`);
console.log(`warm-up: until ${Math.round(warmAt)} open (the workflow cache of ${CACHE} full, and at least a tenth of the run)`);
console.log('service            start   warm-up peak   end   peak after   settled   trend/1000 open   within envelope');
for (const s of SERVICES) {
  const warmPeak = peakOf(before.length ? before : samples.slice(0, 1), s);
  const peakAfter = peakOf(after.length ? after : samples.slice(-1), s);
  const ok = peakAfter <= warmPeak + ENVELOPE_MIB;
  console.log(
    `${s.padEnd(17)} ${samples[0].rss[s].toFixed(0).padStart(6)}   ${warmPeak.toFixed(0).padStart(12)}   ${end.rss[s].toFixed(0).padStart(4)}   ${peakAfter
      .toFixed(0)
      .padStart(10)}   ${settled[s].toFixed(0).padStart(7)}   ${slopePer1000(after, s).toFixed(1).padStart(15)}   ${ok ? 'yes' : 'NO'}`,
  );
}
