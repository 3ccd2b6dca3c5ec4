import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { headerText } from '@sonet/contracts';
import { readTopicsIntoMemory } from '@sonet/messaging';
import { AesGcmPayloadCodec, loadPayloadKey } from '@sonet/service-kit';
import { eventually, integrationSettings, randomTestNhsNumber, testTokens, uniqueSuffix } from '@sonet/testing';

/**
 * A GP records a request and then refers it, over HTTP against the running network. Checks every service's
 * effect: the referral's state and timeline, the workflow in Temporal (its payloads encrypted), the CloudEvents on
 * Kafka, the records-transfer request for the chosen team, the patient's emails, and the audit record, with
 * one trace per HTTP request followed through the workflow and every Kafka hop.
 */
const settings = integrationSettings();
const referralApi = process.env.REFERRAL_API_URL ?? 'http://127.0.0.1:8081';
const transferApi = process.env.RECORDS_TRANSFER_API_URL ?? 'http://127.0.0.1:8082';
const notificationApi = process.env.NOTIFICATION_API_URL ?? 'http://127.0.0.1:8083';
const auditApi = process.env.AUDIT_API_URL ?? 'http://127.0.0.1:8084';
/** The key the running network encrypts Temporal payloads with (development key file). */
const payloadKeyFile = resolve(__dirname, '../../.local/state/temporal-codec/payload.key');

type Tokens = Awaited<ReturnType<typeof testTokens>>;
let tokens: Tokens;
beforeAll(async () => {
  tokens = await testTokens();
});

/** GET as someone: [role, organisation(, NHS number)]. */
const getJson = async <T>(url: string, as: Parameters<Tokens['bearer']>): Promise<{ status: number; body: T }> => {
  const res = await fetch(url, { headers: await tokens.bearer(...as) });
  return { status: res.status, body: (await res.json()) as T };
};
const traceparentFor = (traceId: string) => `00-${traceId}-${randomBytes(8).toString('hex')}-01`;

const referralRequest = (email: string, nhsNumber: string) => ({
  patient: { nhsNumber, name: 'E2E Patient', email, preferredChannel: 'email' },
  originalTeamId: 'RJ122-CARD',
  specialty: 'cardiology',
  reason: 'Wants a second view on the treatment plan.',
  urgency: 'routine',
  explainedByOriginalTeam: true,
  recordsSharingConsent: true,
});

describe('a GP records a second-opinion request and refers it', () => {
  const email = `e2e-${uniqueSuffix()}@patients.example`;
  // The GP system's own traces, one per request: every hop downstream must continue the right one.
  const requestTrace = randomBytes(16).toString('hex');
  const referTrace = randomBytes(16).toString('hex');
  const nhsNumber = randomTestNhsNumber();
  let referralId: string;
  let kafka: Awaited<ReturnType<typeof readTopicsIntoMemory>>;
  let temporal: Client;

  beforeAll(async () => {
    kafka = await readTopicsIntoMemory(settings.kafkaBrokers, ['referral.events.v1', 'records.commands.v1']);
    const codec = new AesGcmPayloadCodec(loadPayloadKey({ NODE_ENV: 'test', TEMPORAL_PAYLOAD_KEY_FILE: payloadKeyFile }));
    temporal = new Client({
      connection: await Connection.connect({ address: settings.temporalAddress }),
      dataConverter: { payloadCodecs: [codec] },
    });
    const res = await fetch(`${referralApi}/v1/referrals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: traceparentFor(requestTrace), ...(await tokens.bearer('gp', 'A81001')) },
      body: JSON.stringify(referralRequest(email, nhsNumber.replace(/(\d{3})(\d{3})(\d{4})/, '$1 $2 $3'))),
    });
    expect(res.status).toBe(202);
    referralId = ((await res.json()) as { id: string }).id;
    expect(res.headers.get('location')).toBe(`/v1/referrals/${referralId}`);
  });

  afterAll(async () => {
    await kafka?.stop();
    await temporal?.connection.close();
  });

  it('moves the referral to GP review, with the original team responsible (rule 5)', async () => {
    const view = await eventually(async () => {
      const r = await getJson<{ state: string; responsibleTeam: { ods: string }; timeline: { event: string }[] }>(
        `${referralApi}/v1/referrals/${referralId}`,
        ['gp', 'A81001'],
      );
      return r.body.state === 'gp-review' ? r.body : undefined;
    });
    expect(view.timeline.map((t) => t.event)).toEqual(['referral.requested.v2']);
    expect(view.responsibleTeam.ods).toBe('RJ122');
  });

  it('runs a SecondOpinionWorkflow whose payloads only the network can read', async () => {
    const handle = temporal.workflow.getHandle(`second-opinion/${referralId}`);
    const description = await handle.describe();
    expect(description.status.name).toBe('RUNNING');
    expect(description.taskQueue).toBe('second-opinion');
    expect((await handle.query<{ state: string }>('status')).state).toBe('gp-review');
    const raw = new Client({ connection: temporal.connection });
    await expect(raw.workflow.getHandle(`second-opinion/${referralId}`).query('status')).rejects.toThrow(/encrypted/);
  });

  it('shows the referral to the patient, and to no other practice or patient (404)', async () => {
    expect((await getJson(`${referralApi}/v1/referrals/${referralId}`, ['patient', 'A81001', nhsNumber])).status).toBe(200);
    expect((await getJson(`${referralApi}/v1/referrals/${referralId}`, ['gp', 'B82005'])).status).toBe(404);
    expect((await getJson(`${referralApi}/v1/referrals/${referralId}`, ['patient', 'A81001', randomTestNhsNumber()])).status).toBe(404);
    expect((await fetch(`${referralApi}/v1/referrals/${referralId}`)).status).toBe(401);
  });

  it('refers to the chosen team, and the records follow it (rule 4)', async () => {
    const res = await fetch(`${referralApi}/v1/referrals/${referralId}/gp-decision`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: traceparentFor(referTrace), ...(await tokens.bearer('gp', 'A81001')) },
      body: JSON.stringify({ decision: 'refer', targetTeamId: 'RTH01-CARD' }),
    });
    expect(res.status).toBe(200);
    const transfers = await eventually(async () => {
      const r = await getJson<{ items: { status: string; targetOrganisation: string; documentKinds: string[] }[] }>(
        `${transferApi}/v1/transfers?referralId=${referralId}`,
        ['ops', 'X26'],
      );
      return r.body.items.length ? r.body.items : undefined;
    });
    expect(transfers).toEqual([
      expect.objectContaining({ targetOrganisation: 'RTH01', documentKinds: ['clinic-letters', 'test-results', 'imaging'] }),
    ]);
    // This patient has no records at the original trust: the transfer finds nothing to send, and says so.
    await eventually(async () => {
      const r = await getJson<{ items: { status: string }[] }>(`${transferApi}/v1/transfers?referralId=${referralId}`, ['ops', 'X26']);
      return r.body.items[0]?.status === 'completed' ? true : undefined;
    }, 60_000);
  });

  it('publishes CloudEvents keyed by the referral id, never by the NHS number', async () => {
    const events = await eventually(async () => {
      const mine = kafka.records.filter((r) => r.key?.toString() === referralId);
      return mine.length >= 3 ? mine : undefined;
    });
    expect(events.map((r) => headerText(r.headers.ce_type)).sort()).toEqual([
      'records.transfer-requested.v2',
      'referral.referred.v1',
      'referral.requested.v2',
    ]);
    for (const r of events) {
      expect(headerText(r.headers.ce_specversion)).toBe('1.0');
      expect(headerText(r.headers.ce_subject)).toBe(referralId);
      expect(headerText(r.headers.ce_source)).toMatch(/^\/sonet\//);
      expect(headerText(r.headers.ce_time)).toMatch(/Z$/);
      expect(r.key?.toString()).not.toContain(nhsNumber);
    }
  });

  it('acknowledges the request to the patient once, pointing to PALS, without the NHS number', async () => {
    const acknowledgements = await eventually(async () => {
      const r = await fetch(`${settings.mailHttp}/api/email?to.address=${encodeURIComponent(email)}`);
      const mails = (await r.json()) as { subject: string; text: string }[];
      const acks = mails.filter((m) => /received/i.test(m.subject));
      return acks.length ? acks : undefined;
    });
    expect(acknowledgements).toHaveLength(1);
    expect(acknowledgements[0]!.text).toMatch(/PALS|Patient Advice and Liaison Service/);
    expect(acknowledgements[0]!.text).not.toContain(nhsNumber);
    const sent = await getJson<{ items: { status: string; template: string }[] }>(
      `${notificationApi}/v1/notifications?referralId=${referralId}`,
      ['ops', 'X26'],
    );
    expect(sent.body.items.filter((n) => n.template === 'patient-acknowledgement' && n.status === 'sent')).toHaveLength(1);
  });

  it('keeps an audit record of every event, each once, in the trace of the HTTP request that caused it', async () => {
    const entries = await eventually(async () => {
      const r = await getJson<{ items: { type: string; eventId: string; traceparent: string | null }[] }>(
        `${auditApi}/v1/audit/referrals/${referralId}/timeline`,
        ['auditor', 'X26'],
      );
      const types = new Set(r.body.items.map((e) => e.type));
      const wanted = ['referral.requested.v2', 'referral.referred.v1', 'records.transfer-requested.v2', 'records.transfer-queued.v1'];
      return wanted.every((t) => types.has(t)) && r.body.items.some((e) => e.type === 'notification.sent.v1') ? r.body.items : undefined;
    }, 30_000);
    const ids = entries.map((e) => e.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    const traceOf = (type: string) => entries.find((e) => e.type === type)?.traceparent?.split('-')[1];
    expect(traceOf('referral.requested.v2')).toBe(requestTrace);
    expect(traceOf('referral.referred.v1')).toBe(referTrace);
    expect(traceOf('records.transfer-requested.v2')).toBe(referTrace);
    expect(traceOf('records.transfer-queued.v1')).toBe(referTrace);
  });

  it('records who read the referral: each read is an access event in the audit log', async () => {
    await getJson(`${referralApi}/v1/referrals/${referralId}`, ['patient', 'A81001', nhsNumber]);
    const reads = await eventually(async () => {
      const r = await getJson<{
        items: { type: string; data: { actor: { role: string; organisation: string }; resource: { kind: string } } }[];
      }>(`${auditApi}/v1/audit/referrals/${referralId}/timeline`, ['auditor', 'X26']);
      const access = r.body.items.filter((e) => e.type === 'access.recorded.v1');
      return access.some((e) => e.data.actor.role === 'patient') && access.some((e) => e.data.actor.role === 'gp') ? access : undefined;
    }, 30_000);
    expect(reads.map((e) => e.data.resource.kind)).toContain('referral');
  });
});

describe('when the GP sends an NHS number that fails its check digit', () => {
  it('answers 400 problem+json naming the field, without echoing the number', async () => {
    const res = await fetch(`${referralApi}/v1/referrals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await tokens.bearer('gp', 'A81001')) },
      body: JSON.stringify(referralRequest(`bad-${uniqueSuffix()}@patients.example`, '9434765918')),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = (await res.json()) as { 'invalid-params': { name: string }[] };
    expect(body['invalid-params'].map((p) => p.name)).toContain('patient.nhsNumber');
    expect(JSON.stringify(body)).not.toContain('9434765918');
  });
});
