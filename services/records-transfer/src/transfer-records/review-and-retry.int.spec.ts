import { eventually } from '@sonet/testing';
import { HospitalTestBed, type SeededPatient, type TransferDetail } from '../../test/hospital-test-bed';

/**
 * The people around a transfer: the referring GP reviews the manifest before anything is sent (excludes an item the
 * rule chose, adds one it left out, sends at once), and operations retry a transfer that failed once its cause is
 * fixed. Against the real HAPI FHIR, Orthanc, Kafka, Temporal and PostgreSQL.
 */
describe('reviewing a manifest and retrying a failed transfer', () => {
  const bed = new HospitalTestBed();
  let patient: SeededPatient;

  beforeAll(async () => {
    // A long review hold: the GP's review (or release) decides when sending starts.
    await bed.start({ env: { RECORDS_REVIEW_HOLD_MS: '600000' } });
    patient = await bed.seedPatient({ slices: 3 });
  }, 120_000);

  afterAll(async () => {
    await bed.stop();
  }, HospitalTestBed.stopTimeoutMs);

  const inReview = async (transferId: string) =>
    eventually(
      async () => {
        const t = await bed.transfer(transferId);
        return t?.status === 'review' ? t : undefined;
      },
      60_000,
      200,
    );
  const finished = (transferId: string) =>
    eventually(
      async () => {
        const t = await bed.transfer(transferId);
        return t && ['completed', 'failed', 'cancelled'].includes(t.status) ? t : undefined;
      },
      90_000,
      250,
    );
  const put = async (
    transferId: string,
    body: unknown,
    as: [Parameters<typeof bed.tokens.bearer>[0], string],
    headers: Record<string, string> = {},
  ) =>
    fetch(`${bed.url}/v1/transfers/${transferId}/manifest`, {
      method: 'PUT',
      headers: { ...(await bed.tokens.bearer(...as)), 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const byRef = (t: TransferDetail, suffix: string) => t.items.find((i) => i.sourceReference.endsWith(suffix))!;

  it('lets the referring GP exclude and add items, then send at once; nobody else may', async () => {
    const command = bed.command(patient);
    await bed.send(command);
    const t = await inReview(command.data.transferId);
    const letter = byRef(t, '-letter');
    const old = byRef(t, '-old');
    expect([letter.status, old.status]).toEqual(['pending', 'excluded']);

    // Only the referring practice's GPs review; others learn nothing (404), other roles are refused (403).
    expect((await put(t.transferId, { items: [{ itemId: letter.itemId, include: false }] }, ['gp', 'B82005'])).status).toBe(404);
    expect((await put(t.transferId, { items: [] }, ['ops', 'X26'])).status).toBe(403);
    // Bad input: an item not in this manifest, an unknown field, a stale version.
    const unknown = await put(t.transferId, { items: [{ itemId: crypto.randomUUID(), include: true }] }, ['gp', 'A81001']);
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await put(t.transferId, { items: [], sendNow: true }, ['gp', 'A81001'])).status).toBe(400);
    expect((await put(t.transferId, { items: [] }, ['gp', 'A81001'], { 'if-match': '"41"' })).status).toBe(412);

    const changed = await put(
      t.transferId,
      {
        items: [
          { itemId: letter.itemId, include: false },
          { itemId: old.itemId, include: true },
        ],
        release: true,
      },
      ['gp', 'A81001'],
      { 'if-match': `"${t.manifestVersion}"` },
    );
    expect(changed.status).toBe(200);
    const done = await finished(t.transferId);
    expect(done.status).toBe('completed');
    expect(byRef(done, '-letter').status).toBe('excluded');
    expect(byRef(done, '-old')).toMatchObject({ status: 'acknowledged', relevant: false });
    const records = await bed.targetRecords(patient.nhsNumber);
    expect(records.DocumentReference!.map((d) => d.identifier!.find((i) => i.system.endsWith('records-transfer-source'))!.value)).toEqual([
      `RJ1/DocumentReference/${patient.id}-old`,
    ]);

    // Once sending has started the manifest is settled.
    const late = await put(t.transferId, { items: [{ itemId: letter.itemId, include: true }] }, ['gp', 'A81001']);
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ currentState: 'completed' });
  }, 120_000);

  it('fails with its reason when the target refuses, is listed for operations, and resumes when they retry', async () => {
    const other = await bed.seedPatient({ slices: 3 });
    const command = bed.command(other);
    await bed.send(command);
    const t = await inReview(command.data.transferId);
    // The EHR refuses the service's credentials (403: not retried), then they are fixed.
    bed.httpFaults.fail(1, 403);
    expect((await put(t.transferId, { release: true }, ['gp', 'A81001'])).status).toBe(200);
    const failed = await finished(t.transferId);
    expect(failed.status).toBe('failed');
    expect(failed.reason).toMatch(/HTTP 403/);
    expect(failed.reason).not.toContain(other.nhsNumber);
    const listed = (await (
      await fetch(`${bed.url}/v1/transfers?status=failed`, { headers: await bed.tokens.bearer('ops', 'X26') })
    ).json()) as { items: { transferId: string }[] };
    expect(listed.items.map((i) => i.transferId)).toContain(t.transferId);
    await eventually(async () => (bed.eventsOf(t.transferId).some((e) => e.type === 'records.transfer-failed.v1') ? true : undefined));

    // Only operations retry, and only a failed transfer.
    expect(
      (await fetch(`${bed.url}/v1/transfers/${t.transferId}/retry`, { method: 'POST', headers: await bed.tokens.bearer('gp', 'A81001') }))
        .status,
    ).toBe(403);
    const key = { 'idempotency-key': `retry-${t.transferId}` };
    const accepted = await fetch(`${bed.url}/v1/transfers/${t.transferId}/retry`, {
      method: 'POST',
      headers: { ...(await bed.tokens.bearer('ops', 'X26')), ...key },
    });
    expect(accepted.status).toBe(202);
    const firstAnswer = await accepted.json();
    const done = await finished(t.transferId);
    expect(done).toMatchObject({ status: 'completed', reason: null });
    expect(done.items.filter((i) => i.relevant).every((i) => i.status === 'acknowledged')).toBe(true);
    const again = await fetch(`${bed.url}/v1/transfers/${t.transferId}/retry`, {
      method: 'POST',
      headers: await bed.tokens.bearer('ops', 'X26'),
    });
    expect(again.status).toBe(409);
    // An operations tool that timed out and sends its retry again with the same Idempotency-Key gets the first answer.
    const replayed = await fetch(`${bed.url}/v1/transfers/${t.transferId}/retry`, {
      method: 'POST',
      headers: { ...(await bed.tokens.bearer('ops', 'X26')), ...key },
    });
    expect(replayed.status).toBe(202);
    expect(await replayed.json()).toEqual(firstAnswer);
  }, 120_000);
});
