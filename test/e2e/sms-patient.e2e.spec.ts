import { eventually, randomTestNhsNumber, testTokens } from '@sonet/testing';

/**
 * The README's walk for a patient who prefers text messages, against the running network (the notification service
 * sends through the local GOV.UK Notify server, infra/local/notify): each step the patient is told of reaches them
 * as one SMS in the Notify inbox, with no clinical detail, and is delivered.
 */
const api = process.env.REFERRAL_API_URL ?? 'http://127.0.0.1:8081';
const notificationApi = process.env.NOTIFICATION_API_URL ?? 'http://127.0.0.1:8083';
const notifyInbox = process.env.NOTIFY_URL ?? `http://127.0.0.1:${process.env.NOTIFY_PORT ?? 8026}`;

type Tokens = Awaited<ReturnType<typeof testTokens>>;
type As = Parameters<Tokens['bearer']>;
let tokens: Tokens;
beforeAll(async () => {
  tokens = await testTokens();
});

const call = async (method: string, path: string, as: As, body?: unknown) => {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { ...(await tokens.bearer(...as)), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown> };
};

interface Notification {
  notificationId: string;
  recipientRole: string;
  template: string;
  channel: string;
  status: string;
}
interface Sms {
  type: string;
  phone_number: string;
  body: string;
  status: string;
}

const patientNotifications = async (referralId: string): Promise<Notification[]> => {
  const res = await fetch(`${notificationApi}/v1/notifications?referralId=${referralId}`, { headers: await tokens.bearer('ops', 'X26') });
  return ((await res.json()) as { items: Notification[] }).items.filter((n) => n.recipientRole === 'patient');
};
const inboxFor = async (notificationId: string): Promise<Sms[]> =>
  (await fetch(`${notifyInbox}/api/messages?reference=${notificationId}`)).json() as Promise<Sms[]>;

const gp: As = ['gp', 'A81001'];
const receiving: As = ['clinician', 'RTH'];
const nextWeek = () => new Date(Date.now() + 7 * 86_400_000).toISOString();

describe('a patient who prefers text messages', () => {
  it('gets one text message per step in the local Notify inbox, delivered, without clinical detail', async () => {
    const created = await call('POST', '/v1/referrals', gp, {
      patient: { nhsNumber: randomTestNhsNumber(), name: 'E2E Texter', mobile: '07700 900001', contactPreferences: ['sms'] },
      originalTeamId: 'RJ122-CARD',
      specialty: 'cardiology',
      reason: 'Unsure about the proposed valve surgery.',
      urgency: 'routine',
      explainedByOriginalTeam: true,
      recordsSharingConsent: true,
    });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    await eventually(async () => ((await call('GET', `/v1/referrals/${id}`, gp)).body.state === 'gp-review' ? true : undefined));
    expect((await call('POST', `/v1/referrals/${id}/gp-decision`, gp, { decision: 'refer', targetTeamId: 'RTH01-CARD' })).status).toBe(200);
    expect((await call('POST', `/v1/referrals/${id}/triage`, receiving, { decision: 'accept' })).status).toBe(200);
    expect((await call('POST', `/v1/referrals/${id}/appointment`, receiving, { appointmentAt: nextWeek() })).status).toBe(200);
    const opinion = { outcome: 'concurs', summary: 'Agree that valve surgery is the right treatment.', shareWithOriginalTeam: false };
    expect((await call('POST', `/v1/referrals/${id}/opinion`, receiving, opinion)).status).toBe(200);

    const expected = [
      'patient-acknowledgement',
      'patient-referred',
      'patient-triage-accepted',
      'patient-appointment-booked',
      'patient-opinion-issued',
    ];
    const delivered = await eventually(
      async () => {
        const ns = await patientNotifications(id);
        return expected.every((t) => ns.some((n) => n.template === t && n.status === 'delivered')) ? ns : undefined;
      },
      60_000,
      500,
    );
    for (const n of delivered.filter((x) => expected.includes(x.template))) {
      expect(n.channel).toBe('sms');
      const texts = await inboxFor(n.notificationId);
      expect(texts).toHaveLength(1);
      expect(texts[0]).toMatchObject({ type: 'sms', phone_number: '+447700900001', status: 'delivered' });
      expect(texts[0]!.body).toMatch(/^NHS second opinion \(ref [0-9A-F]{8}\): /);
      expect(texts[0]!.body).not.toMatch(/cardio|valve|surgery|County General|RTH|concurs|E2E Texter/i);
    }
  });

  it('refuses a mobile that is not a UK mobile, naming the field and not echoing it', async () => {
    const res = await call('POST', '/v1/referrals', gp, {
      patient: { nhsNumber: randomTestNhsNumber(), name: 'E2E Texter', mobile: '020 7946 0000', contactPreferences: ['sms'] },
      originalTeamId: 'RJ122-CARD',
      specialty: 'cardiology',
      reason: 'Unsure about the proposed valve surgery.',
      recordsSharingConsent: true,
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('patient.mobile');
    expect(JSON.stringify(res.body)).not.toContain('7946');
  });
});
