import { Client, Connection } from '@temporalio/client';
import { eventually, integrationSettings, randomTestNhsNumber, testTokens, uniqueSuffix } from '@sonet/testing';

/**
 * The complete process over HTTP against the running network, as the GP system, the receiving hospital's
 * system and the patient's app would drive it: every decision, the 409/412 answers, the emails each party
 * receives, the records transfer following the referral, the audit trail, and the workflow in Temporal.
 */
const settings = integrationSettings();
const api = process.env.REFERRAL_API_URL ?? 'http://127.0.0.1:8081';
const transferApi = process.env.RECORDS_TRANSFER_API_URL ?? 'http://127.0.0.1:8082';
const auditApi = process.env.AUDIT_API_URL ?? 'http://127.0.0.1:8084';

type Tokens = Awaited<ReturnType<typeof testTokens>>;
type As = Parameters<Tokens['bearer']>;
let tokens: Tokens;
let temporal: Client;

beforeAll(async () => {
  tokens = await testTokens();
  temporal = new Client({ connection: await Connection.connect({ address: settings.temporalAddress }) });
});
afterAll(async () => {
  await temporal?.connection.close();
});

/** Appointments are booked in the future only. */
const nextWeek = () => new Date(Date.now() + 7 * 86_400_000).toISOString();

const call = async (method: string, path: string, as: As, body?: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { ...(await tokens.bearer(...as)), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return {
    status: res.status,
    etag: res.headers.get('etag'),
    contentType: res.headers.get('content-type'),
    body: (text ? JSON.parse(text) : null) as Record<string, unknown>,
  };
};

const emailsTo = async (address: string) => {
  const res = await fetch(`${settings.mailHttp}/api/email?to.address=${encodeURIComponent(address)}`);
  return (await res.json()) as { subject: string; text: string }[];
};

/** A patient of practice A81001 whose first opinion came from cardiology at St Elsewhere (RJ122-CARD). */
const newReferral = async (urgency: 'routine' | 'urgent' = 'routine') => {
  const email = `e2e-${uniqueSuffix()}@patients.example`;
  const nhsNumber = randomTestNhsNumber();
  const res = await call('POST', '/v1/referrals', ['gp', 'A81001'], {
    patient: { nhsNumber, name: 'E2E Patient', email, preferredChannel: 'email' },
    originalTeamId: 'RJ122-CARD',
    specialty: 'cardiology',
    reason: 'Unsure about the proposed valve surgery.',
    urgency,
    explainedByOriginalTeam: true,
    recordsSharingConsent: true,
  });
  expect(res.status).toBe(202);
  const id = res.body.id as string;
  const patient: As = ['patient', 'A81001', nhsNumber];
  await eventually(async () =>
    (await call('GET', `/v1/referrals/${id}`, ['gp', 'A81001'])).body.state === 'gp-review' ? true : undefined,
  );
  return { id, email, nhsNumber, patient };
};

const gp: As = ['gp', 'A81001'];
const receiving: As = ['clinician', 'RTH']; // County General trust: site RTH01 runs cardiology team RTH01-CARD

describe('a referral walked from request to opinion and a transfer of care', () => {
  it('takes every decision over HTTP and tells each party', async () => {
    const r = await newReferral();

    // Rule 7: the GP chooses among teams with their site and distance from the practice.
    const teams = await fetch(`${api}/v1/directory/teams?specialty=cardiology&practice=A81001&excludeTeamId=RJ122-CARD`, {
      headers: await tokens.bearer(...gp),
    }).then((x) => x.json() as Promise<{ items: { id: string; site: { name: string }; distanceKm: number }[] }>);
    expect(teams.items.map((t) => t.id)).toContain('RTH01-CARD');
    expect(teams.items.every((t) => typeof t.distanceKm === 'number' && t.site.name)).toBe(true);

    // The receiving team cannot see it, let alone triage it, before the GP refers.
    expect((await call('POST', `/v1/referrals/${r.id}/triage`, receiving, { decision: 'accept' })).status).toBe(404);

    // Rule 3: not to the same team; then to a different one, conditionally on the revision seen.
    const same = await call('POST', `/v1/referrals/${r.id}/gp-decision`, gp, { decision: 'refer', targetTeamId: 'RJ122-CARD' });
    expect(same.status).toBe(400);
    const seen = await call('GET', `/v1/referrals/${r.id}`, gp);
    const referred = await call(
      'POST',
      `/v1/referrals/${r.id}/gp-decision`,
      gp,
      { decision: 'refer', targetTeamId: 'RTH01-CARD' },
      { 'if-match': seen.etag! },
    );
    expect(referred.status).toBe(200);
    expect(referred.body.state).toBe('awaiting-triage');
    expect(referred.etag).toBe('"1"');

    // A decision on the stale revision is refused: 412.
    const stale = await call('POST', `/v1/referrals/${r.id}/inform-original-team`, r.patient, {}, { 'if-match': seen.etag! });
    expect(stale.status).toBe(412);

    // The wrong step for the state: 409 naming the state and what is allowed.
    const early = await call('POST', `/v1/referrals/${r.id}/opinion`, receiving, { outcome: 'concurs', summary: 'x' });
    expect(early.status).toBe(409);
    expect(early.contentType).toMatch(/^application\/problem\+json/);
    expect(early.body).toMatchObject({ currentState: 'awaiting-triage' });
    expect(early.body.allowedActions).toEqual(expect.arrayContaining(['triage-accept', 'triage-reject', 'request-info']));

    // Rule 6: triage like any new referral, after more information from the GP.
    expect(
      (await call('POST', `/v1/referrals/${r.id}/triage`, receiving, { decision: 'request-info', question: 'Latest echo report?' })).body
        .state,
    ).toBe('more-info-requested');
    expect(
      (await call('POST', `/v1/referrals/${r.id}/more-info`, gp, { answer: 'Echo from October attached to the record.' })).body.state,
    ).toBe('awaiting-triage');
    expect((await call('POST', `/v1/referrals/${r.id}/triage`, receiving, { decision: 'accept' })).body.state).toBe('accepted');

    // Rule 9: the patient chooses to tell the original team.
    expect((await call('POST', `/v1/referrals/${r.id}/inform-original-team`, r.patient, {})).status).toBe(200);

    expect((await call('POST', `/v1/referrals/${r.id}/appointment`, receiving, { appointmentAt: nextWeek() })).body.state).toBe(
      'appointment-booked',
    );
    // Rule 8: the opinion may be the same as the first.
    const opinion = await call('POST', `/v1/referrals/${r.id}/opinion`, receiving, {
      outcome: 'concurs',
      summary: 'Agree that valve surgery is the right treatment.',
      shareWithOriginalTeam: true,
    });
    expect(opinion.body.state).toBe('opinion-issued');

    // Rule 5: the original team stays responsible until the new team agrees to take over.
    expect((await call('GET', `/v1/referrals/${r.id}`, r.patient)).body.responsibleTeam).toEqual({ ods: 'RJ122' });
    expect((await call('POST', `/v1/referrals/${r.id}/care-transfer`, r.patient, {})).body.state).toBe('care-transfer-requested');
    const transferred = await call('POST', `/v1/referrals/${r.id}/care-transfer/decision`, receiving, { decision: 'accept' });
    expect(transferred.body.state).toBe('closed');
    const view = await call('GET', `/v1/referrals/${r.id}`, r.patient);
    expect(view.body).toMatchObject({ state: 'closed', responsibleTeam: { ods: 'RTH01' }, opinionOutcome: 'concurs' });
    expect((view.body.timeline as { event: string }[]).map((t) => t.event)).toEqual(
      expect.arrayContaining(['referral.referred.v1', 'referral.opinion-issued.v1', 'referral.care-transferred.v1', 'referral.closed.v1']),
    );

    // The workflow has completed in Temporal.
    expect((await temporal.workflow.getHandle(`second-opinion/${r.id}`).describe()).status.name).toBe('COMPLETED');

    // The patient was told at each step that concerns them.
    const subjects = await eventually(async () => {
      const mails = await emailsTo(r.email);
      return mails.length >= 6 ? mails.map((m) => m.subject) : undefined;
    }, 30_000);
    expect(subjects.length).toBeGreaterThanOrEqual(6);

    // Rule 4: the records went to the team the GP chose.
    const transfers = await fetch(`${transferApi}/v1/transfers?referralId=${r.id}`, { headers: await tokens.bearer('ops', 'X26') }).then(
      (x) => x.json() as Promise<{ items: { targetOrganisation: string }[] }>,
    );
    expect(transfers.items.map((t) => t.targetOrganisation)).toEqual(['RTH01']);

    // Every step is in the audit log.
    const audited = await eventually(async () => {
      const res = await fetch(`${auditApi}/v1/audit/referrals/${r.id}/timeline`, { headers: await tokens.bearer('auditor', 'X26') });
      const items = ((await res.json()) as { items: { type: string }[] }).items.map((e) => e.type);
      return items.includes('referral.closed.v1') ? items : undefined;
    }, 30_000);
    expect(audited).toEqual(
      expect.arrayContaining(['referral.requested.v2', 'referral.referred.v1', 'referral.opinion-issued.v1', 'referral.closed.v1']),
    );

    // ... and the running audit service proves its whole chain unbroken (the built service verifies in a worker thread).
    const res = await fetch(`${auditApi}/v1/audit/verify`, { headers: await tokens.bearer('auditor', 'X26') });
    expect(res.status).toBe(200);
    const report = (await res.json()) as { ok: boolean; entries: number; breaks: unknown[]; schema: unknown[]; lastSeq: string };
    expect(report).toMatchObject({ ok: true, breaks: [], schema: [] });
    expect(report.entries).toBeGreaterThanOrEqual(audited!.length);
  });
});

describe('a referral withdrawn mid-way', () => {
  it('ends the process, stops the records transfer, tells the patient how to reach PALS and refuses further decisions', async () => {
    const r = await newReferral('urgent');
    await call('POST', `/v1/referrals/${r.id}/gp-decision`, gp, { decision: 'refer', targetTeamId: 'RTH01-CARD' });
    await call('POST', `/v1/referrals/${r.id}/triage`, receiving, { decision: 'accept' });

    const withdrawn = await call('POST', `/v1/referrals/${r.id}/withdraw`, r.patient, {
      reason: 'Decided to go ahead with the first plan.',
    });
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body.state).toBe('withdrawn');

    // No more decisions once it is over: 409 naming the state.
    const after = await call('POST', `/v1/referrals/${r.id}/appointment`, receiving, { appointmentAt: nextWeek() });
    expect(after.status).toBe(409);
    expect(after.body).toMatchObject({ currentState: 'withdrawn', allowedActions: [] });

    // The workflow completed; its timers (reminders, urgent escalation) went with it.
    await eventually(async () =>
      (await temporal.workflow.getHandle(`second-opinion/${r.id}`).describe()).status.name === 'COMPLETED' ? true : undefined,
    );

    // Records-transfer cancelled the pending transfer.
    const transfers = await eventually(async () => {
      const res = await fetch(`${transferApi}/v1/transfers?referralId=${r.id}`, { headers: await tokens.bearer('ops', 'X26') });
      const items = ((await res.json()) as { items: { status: string }[] }).items;
      return items.length === 1 && items[0]!.status === 'cancelled' ? items : undefined;
    });
    expect(transfers).toHaveLength(1);

    // Rule 11: the patient's withdrawal message carries PALS contact.
    const mail = await eventually(async () => (await emailsTo(r.email)).find((m) => /withdr/i.test(m.subject + m.text)));
    expect(mail.text).toMatch(/PALS|Patient Advice and Liaison Service/);
  });
});

describe('bad input to the decision endpoints', () => {
  it('answers 400 problem+json naming the field, never 5xx', async () => {
    const r = await newReferral();
    const cases: [string, As, unknown, string][] = [
      ['gp-decision', gp, { decision: 'refer' }, 'targetTeamId'],
      ['gp-decision', gp, { decision: 'decline', reason: '' }, 'reason'],
      ['gp-decision', gp, { decision: 'postpone' }, 'decision'],
      ['gp-decision', gp, { decision: 'refer', targetTeamId: 'NO-SUCH-TEAM' }, 'targetTeamId'],
      ['triage', receiving, { decision: 'reject' }, 'reason'],
      ['more-info', gp, {}, 'answer'],
      ['appointment', receiving, { appointmentAt: 'next tuesday' }, 'appointmentAt'],
      ['opinion', receiving, { outcome: 'maybe', summary: 's' }, 'outcome'],
      ['inform-original-team', r.patient, { note: 'x' }, 'note'],
      ['care-transfer/decision', receiving, { decision: 'accept', extra: 1 }, 'extra'],
      ['withdraw', r.patient, { reason: 42 }, 'reason'],
    ];
    for (const [endpoint, as, body, field] of cases) {
      const res = await call('POST', `/v1/referrals/${r.id}/${endpoint}`, as, body);
      // The receiving team cannot see the referral before it is referred: 404 comes before the body is read there.
      expect([400, 404]).toContain(res.status);
      expect(res.contentType).toMatch(/^application\/problem\+json/);
      if (res.status === 400) expect((res.body['invalid-params'] as { name: string }[]).map((p) => p.name)).toContain(field);
    }
    expect((await call('POST', `/v1/referrals/not-a-uuid/withdraw`, gp, {})).status).toBe(400);
    expect(
      (await call('POST', `/v1/referrals/${r.id}/gp-decision`, gp, { decision: 'decline', reason: 'x' }, { 'if-match': 'yesterday' }))
        .status,
    ).toBe(400);
  });
});
