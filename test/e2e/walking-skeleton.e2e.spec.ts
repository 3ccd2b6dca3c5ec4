import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { headerText } from '@sonet/contracts';
import { readTopicsIntoMemory } from '@sonet/messaging';
import { eventually, integrationSettings, randomTestNhsNumber, testTokens, uniqueSuffix } from '@sonet/testing';

/**
 * Drives the running network over HTTP as a GP system would, and checks every service's effect:
 * the referral's state and timeline, the workflow in Temporal, the events on Kafka with CloudEvents
 * headers, the records-transfer request, the audit record and the patient's email in the dev inbox.
 */
const settings = integrationSettings();
const referralApi = process.env.REFERRAL_API_URL ?? 'http://127.0.0.1:8081';
const transferApi = process.env.RECORDS_TRANSFER_API_URL ?? 'http://127.0.0.1:8082';
const notificationApi = process.env.NOTIFICATION_API_URL ?? 'http://127.0.0.1:8083';
const auditApi = process.env.AUDIT_API_URL ?? 'http://127.0.0.1:8084';

type Tokens = Awaited<ReturnType<typeof testTokens>>;
let tokens: Tokens;
beforeAll(async () => {
  tokens = await testTokens();
});

/** GET as someone: [role, organisation(, NHS number)]. */
const getJson = async <T>(url: string, as: Parameters<Tokens['bearer']>): Promise<{ status: number; body: T; contentType: string | null }> => {
  const res = await fetch(url, { headers: await tokens.bearer(...as) });
  return { status: res.status, body: (await res.json()) as T, contentType: res.headers.get('content-type') };
};

const referralRequest = (email: string, nhsNumber: string) => ({
  patient: { nhsNumber, name: 'E2E Patient', email, preferredChannel: 'email' },
  originalTeamId: 'RJ122-CARD',
  specialty: 'cardiology',
  reason: 'Wants a second view on the treatment plan.',
  urgency: 'routine',
  explainedByOriginalTeam: true,
  recordsSharingConsent: true,
});

describe('a GP records a second-opinion request', () => {
  const email = `e2e-${uniqueSuffix()}@patients.example`;
  // The GP system's own trace: every hop downstream must continue it.
  const traceId = randomBytes(16).toString('hex');
  const nhsNumber = randomTestNhsNumber();
  let referralId: string;
  let kafka: Awaited<ReturnType<typeof readTopicsIntoMemory>>;
  let temporal: Client;

  beforeAll(async () => {
    kafka = await readTopicsIntoMemory(settings.kafkaBrokers, ['referral.events.v1', 'records.commands.v1']);
    temporal = new Client({ connection: await Connection.connect({ address: settings.temporalAddress }) });
    const res = await fetch(`${referralApi}/v1/referrals`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
        ...(await tokens.bearer('gp', 'A81001')),
      },
      body: JSON.stringify(referralRequest(email, nhsNumber.replace(/(\d{3})(\d{3})(\d{4})/, '$1 $2 $3'))),
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { id: string };
    referralId = body.id;
    expect(res.headers.get('location')).toBe(`/v1/referrals/${referralId}`);
  });

  it('shows the referral to the patient, and to no other practice or patient (404)', async () => {
    expect((await getJson(`${referralApi}/v1/referrals/${referralId}`, ['patient', 'A81001', nhsNumber])).status).toBe(200);
    expect((await getJson(`${referralApi}/v1/referrals/${referralId}`, ['gp', 'B82005'])).status).toBe(404);
    expect((await getJson(`${referralApi}/v1/referrals/${referralId}`, ['patient', 'A81001', randomTestNhsNumber()])).status).toBe(404);
    expect((await fetch(`${referralApi}/v1/referrals/${referralId}`)).status).toBe(401);
  });

  afterAll(async () => {
    await kafka?.stop();
    await temporal?.connection.close();
  });

  it('moves the referral to GP review and shows it in its timeline', async () => {
    const view = await eventually(async () => {
      const r = await getJson<{ state: string; responsibleTeam: { ods: string }; timeline: { event: string }[] }>(
        `${referralApi}/v1/referrals/${referralId}`,
        ['gp', 'A81001'],
      );
      return r.body.state === 'gp-review' && r.body.timeline.length >= 2 ? r.body : undefined;
    });
    expect(view.timeline.map((t) => t.event)).toEqual(['referral.requested.v1', 'records.transfer-requested.v1']);
    // Rule 5: the original team stays responsible.
    expect(view.responsibleTeam.ods).toBe('RJ122');
  });

  it('runs a SecondOpinionWorkflow in Temporal that reports the same state', async () => {
    const handle = temporal.workflow.getHandle(`second-opinion/${referralId}`);
    const description = await handle.describe();
    expect(description.status.name).toBe('RUNNING');
    expect(description.taskQueue).toBe('second-opinion');
    const status = await eventually(async () => {
      const s = await handle.query<{ state: string }>('status');
      return s.state === 'gp-review' ? s : undefined;
    });
    expect(status.state).toBe('gp-review');
  });

  it('publishes CloudEvents keyed by the referral id, never by the NHS number', async () => {
    const events = await eventually(async () => {
      const mine = kafka.records.filter((r) => r.key?.toString() === referralId);
      return mine.length >= 2 ? mine : undefined;
    });
    const types = events.map((r) => headerText(r.headers.ce_type)).sort();
    expect(types).toEqual(['records.transfer-requested.v1', 'referral.requested.v1']);
    for (const r of events) {
      expect(headerText(r.headers.ce_specversion)).toBe('1.0');
      expect(headerText(r.headers.ce_subject)).toBe(referralId);
      expect(headerText(r.headers.ce_source)).toMatch(/^\/sonet\//);
      expect(headerText(r.headers.ce_time)).toMatch(/Z$/);
      expect(r.key?.toString()).not.toContain(nhsNumber);
    }
  });

  it('has records-transfer record the transfer request', async () => {
    const transfers = await eventually(async () => {
      const r = await getJson<{ items: { status: string; documentKinds: string[] }[] }>(
        `${transferApi}/v1/transfers?referralId=${referralId}`,
        ['ops', 'X26'],
      );
      return r.body.items.length ? r.body.items : undefined;
    });
    expect(transfers).toHaveLength(1);
    expect(transfers[0]).toMatchObject({ status: 'awaiting-target', documentKinds: ['test-results', 'imaging'] });
  });

  it('sends the patient one acknowledgement email that points to PALS', async () => {
    const messages = await eventually(async () => {
      const r = await getJson<{ subject: string; text: string; to: { address: string }[] }[]>(
        `${settings.mailHttp}/api/email?to.address=${encodeURIComponent(email)}`,
        ['ops', 'X26'],
      );
      return r.body.length ? r.body : undefined;
    });
    expect(messages).toHaveLength(1);
    expect(messages[0]!.text).toMatch(/PALS|Patient Advice and Liaison Service/);
    expect(messages[0]!.text).not.toContain(nhsNumber);
    const sent = await eventually(async () => {
      const r = await getJson<{ items: { status: string }[] }>(`${notificationApi}/v1/notifications?referralId=${referralId}`, ['ops', 'X26']);
      return r.body.items.some((n) => n.status === 'sent') ? r.body.items : undefined;
    });
    expect(sent.filter((n) => n.status === 'sent')).toHaveLength(1);
  });

  it('keeps an audit record of every event about the referral, across services', async () => {
    const expected = ['notification.sent.v1', 'records.transfer-queued.v1', 'records.transfer-requested.v1', 'referral.requested.v1'];
    const entries = await eventually(async () => {
      const r = await getJson<{ items: { type: string; eventId: string; traceparent: string | null }[] }>(`${auditApi}/v1/audit/referrals/${referralId}/timeline`, ['auditor', 'X26']);
      const types = new Set(r.body.items.map((e) => e.type));
      return expected.every((t) => types.has(t)) ? r.body.items : undefined;
    }, 30_000);
    // Each event recorded once, however often Kafka delivered it.
    const ids = entries.map((e) => e.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(entries.map((e) => e.type).sort()).toEqual(expected);
    // One trace from the GP's request, through the workflow's activities and every Kafka hop, to the audit record.
    for (const e of entries) expect(e.traceparent?.split('-')[1]).toBe(traceId);
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
