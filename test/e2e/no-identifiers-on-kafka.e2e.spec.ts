import { randomInt } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { headerText, TopicCatalogue } from '@sonet/contracts';
import { eventually, integrationSettings, randomTestNhsNumber, testTokens, uniqueSuffix } from '@sonet/testing';

jest.setTimeout(240_000);

/**
 * Issue 10 item 5 / ADR 14: no patient identifier travels in clear on Kafka. One end-to-end run against the running
 * network (a request, a referral with its records transfer, the patient's acknowledgement, a forced dead letter),
 * then every topic of the catalogue, dead-letter topics included, is read raw from where it stood before the run:
 * keys, every header and every value, searched for the identifiers the run used, in their usual spellings, other
 * casings and base64.
 */
const settings = integrationSettings();
const referralApi = process.env.REFERRAL_API_URL ?? 'http://127.0.0.1:8081';
const transferApi = process.env.RECORDS_TRANSFER_API_URL ?? 'http://127.0.0.1:8082';
const notificationApi = process.env.NOTIFICATION_API_URL ?? 'http://127.0.0.1:8083';
const auditApi = process.env.AUDIT_API_URL ?? 'http://127.0.0.1:8084';

type Offsets = Map<string, string>;
const TOPICS = TopicCatalogue.map((t) => t.name);

async function offsets(admin: Admin, which: 'low' | 'high'): Promise<Offsets> {
  const out: Offsets = new Map();
  for (const topic of TOPICS) {
    for (const p of await admin.fetchTopicOffsets(topic)) out.set(`${topic}/${p.partition}`, which === 'high' ? p.high : p.offset);
  }
  return out;
}

interface RawRecord {
  readonly where: string;
  readonly text: string;
}

/** Every record between `from` and `to` of every topic, as text: key, each header (name and value), value. */
async function readRaw(kafka: Kafka, admin: Admin, from: Offsets, to: Offsets): Promise<RawRecord[]> {
  const groupId = `e2e-raw-reader-${uniqueSuffix()}`;
  for (const topic of TOPICS) {
    const partitions = [...from]
      .filter(([k]) => k.startsWith(`${topic}/`))
      .map(([k, offset]) => ({ partition: Number(k.split('/')[1]), offset }));
    await admin.setOffsets({ groupId, topic, partitions });
  }
  const pending = new Set([...to].filter(([k, high]) => BigInt(high) > BigInt(from.get(k) ?? '0')).map(([k]) => k));
  const records: RawRecord[] = [];
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topics: TOPICS });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const at = `${topic}/${partition}`;
      if (BigInt(message.offset) >= BigInt(to.get(at) ?? '0')) return;
      const headers = Object.entries(message.headers ?? {}).map(
        ([n, v]) => `${n}=${(Array.isArray(v) ? v : [v]).map((x) => x?.toString('latin1')).join(',')}`,
      );
      records.push({
        where: `${at}@${message.offset}`,
        text: [message.key?.toString('latin1') ?? '', ...headers, message.value?.toString('latin1') ?? ''].join('\n'),
      });
      if (BigInt(message.offset) + 1n >= BigInt(to.get(at) ?? '0')) pending.delete(at);
    },
  });
  try {
    await eventually(async () => (pending.size === 0 ? true : undefined), 120_000, 250);
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** The spellings an identifier could leak in: as given, other casings, without spaces, and base64 at each alignment. */
function needles(value: string): string[] {
  const plain = [value, value.toLowerCase(), value.toUpperCase(), value.replace(/\s+/g, '')];
  const base64 = plain.flatMap((v) =>
    [0, 1, 2].flatMap((pad) => {
      const core = (enc: string) => enc.slice(Math.ceil((pad * 4) / 3), -4);
      const bytes = Buffer.from(`${'\0'.repeat(pad)}${v}`, 'utf8');
      return [core(bytes.toString('base64')), core(bytes.toString('base64url'))];
    }),
  );
  return [...new Set([...plain, ...base64])].filter((n) => n.length >= 6);
}

describe('patient identifiers on Kafka (ADR 14)', () => {
  const suffix = uniqueSuffix();
  const nhsNumber = randomTestNhsNumber();
  const identifiers = {
    nhsNumber,
    spacedNhsNumber: nhsNumber.replace(/(\d{3})(\d{3})(\d{4})/, '$1 $2 $3'),
    name: `Quillon Marchetti-${suffix}`,
    email: `leak-check-${suffix}@patients.example`,
    phone: `07700 9${String(randomInt(0, 100_000)).padStart(5, '0')}`,
  };
  let records: RawRecord[];

  beforeAll(async () => {
    const tokens = await testTokens();
    const kafka = new Kafka({ clientId: `e2e-raw-${suffix}`, brokers: settings.kafkaBrokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const before = await offsets(admin, 'high');
      const gp = await tokens.bearer('gp', 'A81001');
      const post = (path: string, body: unknown) =>
        fetch(`${referralApi}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...gp },
          body: JSON.stringify(body),
        });
      const created = await post('/v1/referrals', {
        patient: {
          nhsNumber: identifiers.spacedNhsNumber,
          name: identifiers.name,
          email: identifiers.email,
          phone: identifiers.phone,
          preferredChannel: 'email',
        },
        originalTeamId: 'RJ122-CARD',
        specialty: 'cardiology',
        reason: 'Wants a second view on the treatment plan.',
        urgency: 'routine',
        explainedByOriginalTeam: false,
        recordsSharingConsent: true,
      });
      expect(created.status).toBe(202);
      const { id } = (await created.json()) as { id: string };
      await eventually(async () => {
        const r = await fetch(`${referralApi}/v1/referrals/${id}`, { headers: gp });
        return ((await r.json()) as { state: string }).state === 'gp-review' ? true : undefined;
      }, 60_000);
      expect((await post(`/v1/referrals/${id}/gp-decision`, { decision: 'refer', targetTeamId: 'RTH01-CARD' })).status).toBe(200);

      // Every consumer has done its part: the acknowledgement is sent, the transfer is recorded, audit holds the events.
      const ops = await tokens.bearer('ops', 'X26');
      await eventually(async () => {
        const r = await fetch(`${notificationApi}/v1/notifications?referralId=${id}`, { headers: ops });
        const items = ((await r.json()) as { items: { template: string; status: string }[] }).items;
        return items.some((n) => n.template === 'patient-acknowledgement' && n.status === 'sent') ? true : undefined;
      }, 90_000);
      await eventually(async () => {
        const r = await fetch(`${transferApi}/v1/transfers?referralId=${id}`, { headers: ops });
        return ((await r.json()) as { items: unknown[] }).items.length > 0 ? true : undefined;
      }, 60_000);
      const auditor = await tokens.bearer('auditor', 'X26');
      await eventually(async () => {
        const r = await fetch(`${auditApi}/v1/audit/referrals/${id}/timeline`, { headers: auditor });
        const types = ((await r.json()) as { items: { type: string }[] }).items.map((e) => e.type);
        return types.some((t) => t.startsWith('referral.requested.')) && types.some((t) => t.startsWith('records.transfer-requested.'))
          ? true
          : undefined;
      }, 60_000);

      // A dead letter of this run: the request event again under another key, which every consumer refuses.
      const original = await firstRequest(kafka, admin, before, id);
      const dlq = 'referral.events.v1.dlq/0';
      const dlqBefore = BigInt((await offsets(admin, 'high')).get(dlq) ?? '0');
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: 'referral.events.v1', messages: [{ ...original, key: '00000000-0000-4000-8000-000000000000' }] });
      await producer.disconnect();
      await eventually(async () => (BigInt((await offsets(admin, 'high')).get(dlq) ?? '0') > dlqBefore ? true : undefined), 60_000, 500);
      records = await readRaw(kafka, admin, before, await offsets(admin, 'high'));
    } finally {
      await admin.disconnect();
    }
  });

  it('reads every topic of the catalogue, dead letters included', () => {
    expect(TOPICS.filter((t) => t.endsWith('.dlq'))).toHaveLength(TOPICS.length / 2);
    expect(records.some((r) => r.where.startsWith('referral.events.v1.dlq/'))).toBe(true);
  });

  it.each(Object.entries(identifiers))('finds the %s in no key, header or value of any topic', (_what, value) => {
    const found = needles(value).flatMap((n) => records.filter((r) => r.text.includes(n)).map((r) => `${r.where} (${n})`));
    expect(found).toEqual([]);
  });
});

/** The referral's request event as it travelled (headers and value), to send again under another key. */
async function firstRequest(kafka: Kafka, admin: Admin, from: Offsets, referralId: string) {
  const groupId = `e2e-raw-request-${uniqueSuffix()}`;
  const topic = 'referral.events.v1';
  await admin.setOffsets({
    groupId,
    topic,
    partitions: [...from].filter(([k]) => k.startsWith(`${topic}/`)).map(([k, offset]) => ({ partition: Number(k.split('/')[1]), offset })),
  });
  const consumer = kafka.consumer({ groupId });
  let found: { value: Buffer; headers: Record<string, Buffer> } | undefined;
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const type = headerText(message.headers?.ce_type) ?? '';
      if (message.key?.toString() === referralId && type.startsWith('referral.requested.') && message.value) {
        found ??= {
          value: message.value,
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, Buffer.from(String(v))])),
        };
      }
    },
  });
  try {
    return await eventually(async () => found, 60_000, 250);
  } finally {
    await consumer.disconnect();
  }
}
