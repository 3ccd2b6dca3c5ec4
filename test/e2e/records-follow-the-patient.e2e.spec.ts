import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTopicsIntoMemory } from '@sonet/messaging';
import { basicAuth, demoHospitals, eventually, integrationSettings, REPO_ROOT, sha256Of, testTokens } from '@sonet/testing';

/**
 * The README's walk for its demo patient (Ann Example, 999 400 0047, whose letters, echo report and cardiac CT are
 * at St Elsewhere, RJ1): once the GP refers her to Calder and Pennine (RTH), her records are in RTH's EHR and PACS,
 * byte for byte, and the gaps (a study whose images were lost, a letter without its file) are reported.
 */
const referralApi = process.env.REFERRAL_API_URL ?? 'http://127.0.0.1:8081';
const transferApi = process.env.RECORDS_TRANSFER_API_URL ?? 'http://127.0.0.1:8082';
const NHS = '9994000047';
const STUDY = '2.25.4000001';

describe("the README's walk: the records follow the patient to the receiving trust", () => {
  const hospitals = demoHospitals();
  let tokens: Awaited<ReturnType<typeof testTokens>>;

  beforeAll(async () => {
    tokens = await testTokens();
  });

  const pacsStudy = async (ods: string) => {
    const t = hospitals.trust(ods);
    const res = await fetch(`http://127.0.0.1:${t.pacs.httpPort}/dicom-web/studies/${STUDY}/instances`, {
      headers: { ...basicAuth(t.pacs.username, t.pacs.password), accept: 'application/dicom+json' },
    });
    return res.status === 200 ? ((await res.json()) as unknown[]).length : 0;
  };

  it('sends her letters, results and images to RTH, reads them back, and reports the gaps', async () => {
    const gp = await tokens.bearer('gp', 'A81001');
    const created = await fetch(`${referralApi}/v1/referrals`, {
      method: 'POST',
      headers: { ...gp, 'content-type': 'application/json' },
      body: JSON.stringify({
        patient: { nhsNumber: '999 400 0047', name: 'Ann Example', email: 'ann@example.org', preferredChannel: 'email' },
        originalTeamId: 'RJ122-CARD',
        specialty: 'cardiology',
        urgency: 'routine',
        reason: 'Would like another view on the treatment plan',
        explainedByOriginalTeam: true,
        recordsSharingConsent: true,
      }),
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    await eventually(async () => {
      const r = await fetch(`${referralApi}/v1/referrals/${id}`, { headers: gp });
      return r.status === 200 && ((await r.json()) as { state: string }).state === 'gp-review' ? true : undefined;
    });
    const refer = await fetch(`${referralApi}/v1/referrals/${id}/gp-decision`, {
      method: 'POST',
      headers: { ...gp, 'content-type': 'application/json' },
      body: JSON.stringify({ decision: 'refer', targetTeamId: 'RTH01-CARD' }),
    });
    expect(refer.status).toBe(200);

    // The receiving team sees the transfer complete.
    const team = await tokens.bearer('clinician', 'RTH');
    const transfer = await eventually(
      async () => {
        const list = (await (await fetch(`${transferApi}/v1/transfers?referralId=${id}`, { headers: team })).json()) as {
          items: { transferId: string; status: string }[];
        };
        return list.items[0]?.status === 'completed' ? list.items[0] : undefined;
      },
      120_000,
      500,
    );
    const detail = (await (await fetch(`${transferApi}/v1/transfers/${transfer.transferId}`, { headers: team })).json()) as {
      items: { kind: string; status: string; sha256: string | null; relevant: boolean; instances?: { total: number; confirmed: number } }[];
      gaps: { kind: string; reference: string }[];
    };
    const sent = detail.items.filter((i) => i.status === 'acknowledged');
    expect(sent.map((i) => i.kind).sort()).toEqual(expect.arrayContaining(['diagnostic-report', 'document', 'imaging-study']));
    expect(sent.every((i) => /^[0-9a-f]{64}$/.test(i.sha256 ?? ''))).toBe(true);
    expect(detail.items.find((i) => i.kind === 'imaging-study' && i.relevant)?.instances).toEqual({
      total: 200,
      confirmed: 200,
      mismatches: 0,
    });
    expect(detail.gaps.map((g) => g.kind).sort()).toEqual(['attachment', 'imaging-study']);

    // In RTH's PACS: the study, every image; in RTH's EHR: her letters with their files, byte for byte.
    expect(await pacsStudy('RTH')).toBe(200);
    const rth = hospitals.trust('RTH');
    const auth = basicAuth(rth.fhir.username, rth.fhir.password);
    const docs = (await (
      await fetch(`${hospitals.fhirBase('RTH')}/DocumentReference?patient.identifier=https://fhir.nhs.uk/Id/nhs-number%7C${NHS}`, {
        headers: { ...auth, accept: 'application/fhir+json' },
      })
    ).json()) as { entry?: { resource: { content: { attachment: { url?: string; contentType: string } }[] } }[] };
    const files = (docs.entry ?? []).flatMap((e) => e.resource.content.map((c) => c.attachment)).filter((a) => a.url);
    expect(files.length).toBeGreaterThanOrEqual(1);
    const letterDigests = detail.items.filter((i) => i.kind === 'document' && i.status === 'acknowledged').map((i) => i.sha256);
    for (const f of files) {
      const bytes = Buffer.from(
        await (await fetch(`${hospitals.fhirBase('RTH')}/${f.url}`, { headers: { ...auth, accept: f.contentType } })).arrayBuffer(),
      );
      expect(letterDigests).toContain(sha256Of(bytes));
    }

    // The GP and the receiving team are told by email what could not be sent (and whom to ask).
    const told = await eventually(async () => {
      const mails = (await (await fetch(`${integrationSettings().mailHttp}/api/email`)).json()) as {
        subject: string;
        to: { address: string }[];
      }[];
      const hits = mails.filter((m) => m.subject.includes(id.slice(0, 8)) && m.subject.includes('could not be sent'));
      return hits.length >= 2 ? hits : undefined;
    }, 30_000);
    expect(told.map((m) => m.to[0]!.address).sort()).toEqual([
      'a81001.referrals@gp.nhs.invalid',
      'cardiology.rth01@calder-pennine.nhs.invalid',
    ]);

    // What records-transfer said about it on Kafka names ids and digests, never the patient.
    const kafka = await readTopicsIntoMemory(integrationSettings().kafkaBrokers, ['records.events.v1']);
    try {
      const mine = await eventually(async () => {
        const m = kafka.records.filter((r) => r.value?.toString('utf8').includes(transfer.transferId));
        return m.some(
          (r) => r.value?.toString('utf8').includes('transfer-completed') || String(r.headers.ce_type) === 'records.transfer-completed.v1',
        )
          ? m
          : undefined;
      });
      for (const r of mine) expect(`${r.value?.toString('utf8')} ${JSON.stringify(r.headers)}`).not.toContain(NHS);
    } finally {
      await kafka.stop();
    }
  }, 180_000);

  it("leaves the patient's identifiers in no server's log: services, EHR, PACS, mail server, fault proxy", () => {
    const dir = join(REPO_ROOT, '.local/logs');
    const found = readdirSync(dir)
      .filter((f) => f.endsWith('.log') && !f.endsWith('-install.log'))
      .flatMap((f) => {
        const text = readFileSync(join(dir, f), 'utf8');
        return [NHS, '999 400 0047', 'Ann Example', 'ann@example.org'].filter((v) => text.includes(v)).map((v) => `${f}: ${v}`);
      });
    expect(found).toEqual([]);
  });
});
