// Notification throughput through GOV.UK Notify: `npm run bench:notify` (BENCH_EVENTS=10000 by default).
// Needs the network's Kafka and PostgreSQL running (`npm start`); prints figures, asserts nothing.
//   1. A local Notify server (infra/local/notify/server.mjs) on a free port, its rate limit raised for the run.
//   2. Its own intake: a plain loop of the official client (notifications-node-client), BENCH_CONCURRENCY sends at a
//      time, BENCH_BASELINE messages: the most this server takes on this machine.
//   3. The notification service (dist, a child process) with a fresh database, reading its own referral topic and
//      writing its outcomes (notification.sent.v1) to its own notification topic, so the running network never sees
//      these events (they would land in its audit log, and its services would spend the machine's CPU on them), fed
//      BENCH_EVENTS distinct referral.requested.v1 events for SMS-only patients.
// Prints both rates, their ratio (target ≥ 0.5), p50/p99 from publishing the event to Notify accepting the text,
// and the duplicates and the lost messages counted on the Notify server (targets: 0 and 0).
import { createRequire } from 'node:module';
import { randomBytes, randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../../libs/testing/src/ports.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const require = createRequire(import.meta.url);
const dist = (p) => require(join(root, 'dist', p));
const { Client: Pg } = require('pg');
const { Kafka, logLevel } = require('kafkajs');
const { NotifyClient } = require('notifications-node-client');
const { ReferralRequested, toWireMessage } = dist('libs/contracts/src/index.js');
const { buildEvent, deriveId } = dist('libs/messaging/src/index.js');

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000);
const BASELINE = Number(process.env.BENCH_BASELINE ?? 3_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const suffix = randomBytes(4).toString('hex');
const DB = `bench_notify_${suffix}`;
const TOPIC = `bench.referral-events.${suffix}`;
const OUTCOMES_TOPIC = `bench.notification-events.${suffix}`;
const API_KEY = 'sonet_local-c2676a2c-397a-41a9-8f39-bbd7ece41446-4cc1f426-3f6e-4508-a07f-1dbc6bb6566d';
const CALLBACK_TOKEN = 'local-notify-callback-token-development-only';
const SMS_TEMPLATE = '9c2ff95d-744a-4742-9a00-a2ad5a079da0';
const pg = { host: '127.0.0.1', port: Number(process.env.PGPORT ?? 5432), user: 'sonet', password: 'sonet' };
const brokers = (process.env.KAFKA_BROKERS ?? `127.0.0.1:${process.env.KAFKA_PORT ?? 9092}`).split(',');
const log = (...a) => console.log(`[bench] ${a.join(' ')}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(url, what) {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  throw new Error(`${what} did not come up at ${url}`);
}

function startChild(args, env, name) {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.on('data', (d) => process.env.BENCH_VERBOSE && process.stderr.write(`[${name}] ${d}`));
  return child;
}

/** The Notify server's own intake: the official client in a plain loop, CONCURRENCY at a time. */
async function baseline(notifyUrl) {
  const client = new NotifyClient(notifyUrl, API_KEY);
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < BASELINE) {
      next += 1;
      await client.sendSms(SMS_TEMPLATE, '07700900001', { personalisation: { body: 'baseline' }, reference: `baseline-${randomUUID()}` });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return BASELINE / ((performance.now() - started) / 1000);
}

function referralEvent() {
  const referralId = randomUUID();
  return buildEvent(ReferralRequested, {
    id: randomUUID(),
    source: '/sonet/referral',
    subject: referralId,
    data: {
      referralId,
      referringPractice: 'A81001',
      originalTeam: { ods: 'RX1', name: 'Cardiology, General Hospital' },
      specialty: 'cardiology',
      urgency: 'routine',
      reason: 'Benchmark',
      explainedByOriginalTeam: false,
      patient: {
        nhsNumber: '9434765919',
        name: 'Bench Patient',
        preferredChannel: 'sms',
        mobile: '+447700900001',
        contactPreferences: ['sms'],
      },
      requestedAt: new Date().toISOString(),
    },
  });
}

async function publishAll(producer, events) {
  const published = new Map();
  for (let i = 0; i < events.length; i += 500) {
    const batch = events.slice(i, i + 500);
    const at = Date.now();
    await producer.send({
      topic: TOPIC,
      messages: batch.map((e) => {
        const w = toWireMessage(e);
        return { key: w.key, value: w.value, headers: w.headers };
      }),
    });
    for (const e of batch) published.set(deriveId(e.id, 'patient', 'patient-acknowledgement'), at);
  }
  return published;
}

/**
 * Waits until every notification reached Notify, or nothing moved for 60 s; returns the messages it accepted and the
 * seconds from the first publish to the last acceptance. Polls the server's counter (cheap) and reads its message list
 * only once the count says everything may be there, so watching costs the server little while the service runs.
 */
async function collect(notifyUrl, published, since, acceptedBefore) {
  const stats = async () => (await (await fetch(`${notifyUrl}/api/stats`)).json()).accepted - acceptedBefore;
  const mineNow = async () => (await (await fetch(`${notifyUrl}/api/messages?type=sms`)).json()).filter((m) => published.has(m.reference));
  const result = (mine) => ({ mine, seconds: (Math.max(...mine.map((m) => Date.parse(m.created_at)), since) - since) / 1000 });
  let last = -1;
  let stillSince = Date.now();
  for (;;) {
    const accepted = await stats();
    if (accepted >= published.size) {
      const mine = await mineNow();
      if (new Set(mine.map((m) => m.reference)).size >= published.size) return result(mine);
    }
    if (accepted !== last) [last, stillSince] = [accepted, Date.now()];
    if (Date.now() - stillSince > 60_000) return result(await mineNow());
    await sleep(250);
  }
}

/**
 * Answers Notify's delivery receipts for the baseline's messages on the service's port until the service starts:
 * without it every baseline message costs the Notify server six failed callbacks (one and five retries), which slowed
 * the baseline it is measured against and spilled into the service's run.
 */
function receiptSink(port) {
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  return new Promise((res) => server.listen(port, '127.0.0.1', () => res(server)));
}

const percentile = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function main() {
  const notifyPort = await freePort();
  const servicePort = await freePort();
  const notifyUrl = `http://127.0.0.1:${notifyPort}`;
  const admin = new Kafka({ clientId: `bench-${suffix}`, brokers, logLevel: logLevel.NOTHING }).admin();
  const db = new Pg({ ...pg, database: 'postgres' });
  const children = [];
  try {
    children.push(
      startChild(
        [join(root, 'infra/local/notify/server.mjs')],
        {
          NOTIFY_PORT: String(notifyPort),
          NOTIFY_RATE_LIMIT_PER_MINUTE: '100000000',
          NOTIFY_DAILY_LIMIT: '100000000',
          NOTIFY_CALLBACK_URL: `http://127.0.0.1:${servicePort}/v1/notify/receipts`,
          NOTIFY_CALLBACK_TOKEN: CALLBACK_TOKEN,
        },
        'notify',
      ),
    );
    await waitFor(`${notifyUrl}/_status`, 'the local Notify server');
    const sink = await receiptSink(servicePort);
    log(`local Notify on ${notifyUrl}; baseline: ${BASELINE} texts through the official client, ${CONCURRENCY} at a time`);
    const baseRate = await baseline(notifyUrl);
    log(`Notify server intake: ${baseRate.toFixed(0)} messages/s`);
    // The last receipts of the baseline (sent NOTIFY_RECEIPT_DELAY_MS after each message) are let through first.
    await sleep(1000);
    await new Promise((r) => {
      sink.close(r);
      sink.closeAllConnections();
    });
    const acceptedBefore = (await (await fetch(`${notifyUrl}/api/stats`)).json()).accepted;

    await db.connect();
    await db.query(`create database ${DB}`);
    await admin.connect();
    await admin.createTopics({
      topics: [TOPIC, OUTCOMES_TOPIC].map((topic) => ({ topic, numPartitions: 6, replicationFactor: 1 })),
      waitForLeaders: true,
    });
    const serviceEnv = {
      PGDATABASE: DB,
      HTTP_PORT: String(servicePort),
      LOG_LEVEL: 'warn',
      AUTH_JWKS_FILE: process.env.AUTH_JWKS_FILE ?? join(root, '.local/state/auth/jwks.json'),
      KAFKA_CONSUMER_GROUP: `notification.bench-${suffix}`,
      REFERRAL_EVENTS_TOPIC: TOPIC,
      NOTIFICATION_EVENTS_TOPIC: OUTCOMES_TOPIC,
      NOTIFY_API_KEY: API_KEY,
      NOTIFY_BASE_URL: notifyUrl,
      NOTIFY_CALLBACK_TOKEN: CALLBACK_TOKEN,
      NOTIFY_RATE_LIMIT_PER_MINUTE: '100000000',
      DISPATCH_BATCH_SIZE: process.env.BENCH_DISPATCH_BATCH ?? '50',
      DISPATCH_INTERVAL_MS: '50',
    };
    const migrate = startChild([join(root, 'dist/services/notification/src/migrate.js')], serviceEnv, 'migrate');
    await new Promise((r, j) => migrate.on('exit', (code) => (code === 0 ? r() : j(new Error(`migrate exited ${code}`)))));
    // BENCH_SERVICE_NODE_ARGS: e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the service.
    const nodeArgs = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
    children.push(startChild([...nodeArgs, join(root, 'dist/services/notification/src/main.js')], serviceEnv, 'notification'));
    await waitFor(`http://127.0.0.1:${servicePort}/health/ready`, 'the notification service');

    const producer = new Kafka({ clientId: `bench-producer-${suffix}`, brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    const events = Array.from({ length: EVENTS }, referralEvent);
    log(`publishing ${EVENTS} referral.requested.v1 events (SMS-only patients) to ${TOPIC}`);
    const since = Date.now();
    const published = await publishAll(producer, events);
    await producer.disconnect();
    const { mine, seconds } = await collect(notifyUrl, published, since, acceptedBefore);

    const perRef = new Map();
    for (const m of mine) perRef.set(m.reference, (perRef.get(m.reference) ?? 0) + 1);
    const duplicates = [...perRef.values()].reduce((n, c) => n + (c - 1), 0);
    const lost = published.size - perRef.size;
    const latencies = mine.map((m) => Date.parse(m.created_at) - published.get(m.reference)).sort((a, b) => a - b);
    const serviceRate = perRef.size / seconds;
    console.log(`
  events                       ${EVENTS}
  Notify server intake         ${baseRate.toFixed(0)} messages/s (official client, ${CONCURRENCY} at a time)
  through the service          ${serviceRate.toFixed(0)} messages/s (Kafka → inbox → dispatcher → Notify)
  ratio                        ${(serviceRate / baseRate).toFixed(2)}   (target ≥ 0.5)
  event → accepted  p50 / p99  ${percentile(latencies, 50)} ms / ${percentile(latencies, 99)} ms
  duplicates                   ${duplicates}   (target 0)
  lost                         ${lost}   (target 0)
`);
  } finally {
    for (const c of children.reverse()) c.kill('SIGTERM');
    await sleep(1000);
    await admin.deleteTopics({ topics: [TOPIC, OUTCOMES_TOPIC] }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await db.query(`drop database if exists ${DB} with (force)`).catch(() => undefined);
    await db.end().catch(() => undefined);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
