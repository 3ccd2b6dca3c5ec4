import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { dlqTopicOf, headerTextMap, Topics } from '@sonet/contracts';
import { readTopicsIntoMemory } from '@sonet/messaging';
import {
  eventually,
  integrationSettings,
  randomTestNhsNumber,
  REPO_ROOT,
  secondOpinionRequest,
  testTokens,
  uniqueSuffix,
} from '@sonet/testing';

/**
 * Patient identifiers travel only in the (encrypted or sealed) payloads that need them: a referral walked through
 * the running network (`npm start`, exporting spans to Zipkin) leaves its NHS number, name, email and phone in no
 * service log, no Kafka key or header, no raw Temporal history and no exported span. Any hit fails, saying where.
 * (Kafka message values are covered by the sealing of patient data on Kafka, not here.)
 */
jest.setTimeout(240_000);

const settings = integrationSettings();
const referralApi = process.env.REFERRAL_API_URL ?? 'http://127.0.0.1:8081';
const transferApi = process.env.RECORDS_TRANSFER_API_URL ?? 'http://127.0.0.1:8082';
const zipkin = process.env.ZIPKIN_URL ?? 'http://127.0.0.1:9411';
/** Where network.sh writes each server's output (LOG_DIR to read another checkout's). */
const LOG_DIR = process.env.LOG_DIR ?? join(REPO_ROOT, '.local/logs');
const SERVICES = ['referral', 'records-transfer', 'notification', 'audit'];
const LOGS = [...SERVICES, 'temporal', 'kafka', 'postgres'].map((n) => join(LOG_DIR, `${n}.log`));

const suffix = uniqueSuffix();
const nhs = randomTestNhsNumber();
const patient = {
  nhsNumber: `${nhs.slice(0, 3)} ${nhs.slice(3, 6)} ${nhs.slice(6)}`,
  name: `Quillon Ashcombe-${suffix}`,
  email: `q.ashcombe.${suffix}@patients.example`,
  phone: `07700 9${suffix.replace(/\D/g, '').padEnd(5, '0').slice(0, 5)}`,
};
/** Every form an identifier may take in text: as sent, without spaces, the name's words. */
const needles = [
  nhs,
  patient.nhsNumber,
  patient.name,
  `Ashcombe-${suffix}`,
  patient.email,
  patient.email.split('@')[0] ?? '',
  patient.phone,
  patient.phone.replace(/\s/g, ''),
];

/** Where a text holds an identifier: "<where>: <needle>" for each hit. */
const hitsIn = (where: string, text: string): string[] => needles.filter((n) => n && text.includes(n)).map((n) => `${where}: ${n}`);

let tokens: Awaited<ReturnType<typeof testTokens>>;
let referralId: string;
let transferId: string | undefined;
let traceId: string;

const call = async (method: string, url: string, as: [role: 'gp' | 'ops' | 'clinician', org: string], body?: unknown) => {
  const res = await fetch(url, {
    method,
    headers: { ...(await tokens.bearer(...as)), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

/** The walk: request, GP review, refer (a records transfer starts), wait until the transfer has an outcome. */
beforeAll(async () => {
  tokens = await testTokens();
  const created = await call('POST', `${referralApi}/v1/referrals`, ['gp', 'A81001'], secondOpinionRequest(patient, 'urgent'));
  expect(created.status).toBe(202);
  referralId = created.body.id as string;
  await eventually(async () =>
    (await call('GET', `${referralApi}/v1/referrals/${referralId}`, ['gp', 'A81001'])).body.state === 'gp-review' ? true : undefined,
  );
  const refer = await call('POST', `${referralApi}/v1/referrals/${referralId}/gp-decision`, ['gp', 'A81001'], {
    decision: 'refer',
    targetTeamId: 'RTH01-CARD',
  });
  expect(refer.status).toBe(200);
  const transfer = await eventually(
    async () => {
      const list = await call('GET', `${transferApi}/v1/transfers?referralId=${referralId}`, ['clinician', 'RTH']);
      const item = (list.body.items as { transferId: string; status: string }[] | undefined)?.[0];
      return item && ['completed', 'failed', 'refused', 'review'].includes(item.status) ? item : undefined;
    },
    120_000,
    500,
  ).catch(() => undefined);
  transferId = transfer?.transferId;
  traceId = (await call('GET', `${referralApi}/v1/referrals/${referralId}`, ['ops', 'X26'])).body.traceId as string;
});

describe('after a walk, no patient identifier outside the payloads that need it', () => {
  it('is in no service log', () => {
    expect(SERVICES.map((n) => existsSync(join(LOG_DIR, `${n}.log`)))).toEqual(SERVICES.map(() => true));
    const hits = LOGS.filter(existsSync).flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .flatMap((line, i) => hitsIn(`${f.slice(LOG_DIR.length + 1)}:${i + 1}`, line)),
    );
    expect(hits).toEqual([]);
  });

  it('is in no Kafka key or header, on any topic or dead-letter topic', async () => {
    const topics = Object.values(Topics).flatMap((t) => [t, dlqTopicOf(t)]);
    const kafka = await readTopicsIntoMemory(settings.kafkaBrokers, topics);
    try {
      const ours = () => kafka.records.filter((r) => r.key?.toString() === referralId);
      await eventually(async () => (new Set(ours().map((r) => r.topic)).size >= 4 ? true : undefined), 60_000);
      const hits = kafka.records.flatMap((r) => {
        const where = `${r.topic}@${r.partition}:${r.offset}`;
        return [
          ...hitsIn(`${where} key`, r.key?.toString() ?? ''),
          ...hitsIn(`${where} headers`, JSON.stringify(headerTextMap(r.headers))),
        ];
      });
      expect(hits).toEqual([]);
    } finally {
      await kafka.stop();
    }
  });

  it('is in no raw Temporal history (payloads read without the codec)', async () => {
    const temporal = new Client({ connection: await Connection.connect({ address: settings.temporalAddress }) });
    try {
      const ids = [`second-opinion/${referralId}`, ...(transferId ? [`records-transfer/${transferId}`] : [])];
      const hits: string[] = [];
      for (const id of ids) {
        const json = historyToJSON(await temporal.workflow.getHandle(id).fetchHistory());
        // Each payload's data (base64 in the JSON) decoded too: a payload the codec did not encrypt reads as text.
        const decoded = [...json.matchAll(/"data":"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1] ?? '', 'base64').toString('utf8'));
        hits.push(...hitsIn(`${id} history`, json), ...decoded.flatMap((d) => hitsIn(`${id} payload`, d)));
      }
      expect(hits).toEqual([]);
    } finally {
      await temporal.connection.close();
    }
  });

  it("is in no exported span's attributes (the trace viewer)", async () => {
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    await eventually(async () => ((await fetch(`${zipkin}/api/v2/trace/${traceId}`)).status === 200 ? true : undefined), 60_000, 1_000);
    const hits: string[] = [];
    for (const service of ['referral', 'records-transfer', 'notification', 'audit']) {
      const res = await fetch(`${zipkin}/api/v2/traces?serviceName=${service}&lookback=900000&limit=10000`);
      expect(res.status).toBe(200);
      hits.push(...hitsIn(`spans of ${service}`, await res.text()));
    }
    expect(hits).toEqual([]);
  });
});
