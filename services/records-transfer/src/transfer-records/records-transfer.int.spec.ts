import { eventually } from '@sonet/testing';
import { HospitalTestBed, SOURCE, TARGET, type SeededPatient, type TransferDetail } from '../../test/hospital-test-bed';

/**
 * A transfer end to end against the real HAPI FHIR, Orthanc, Kafka, Temporal and PostgreSQL: what reaches the
 * receiving trust is byte-identical (SHA-256 per item and per instance), and faults on the way (503s, a connection
 * reset mid-body, a corrupted byte) are recovered from.
 */
describe("records-transfer moving a patient's records between trusts", () => {
  const bed = new HospitalTestBed();
  let corruptNext = { document: false, imaging: false };
  let patient: SeededPatient;

  beforeAll(async () => {
    await bed.start({
      faults: {
        corrupt: ({ kind }) => {
          const key = kind === 'document' ? 'document' : kind === 'imaging-study' ? 'imaging' : null;
          if (!key || !corruptNext[key]) return false;
          corruptNext = { ...corruptNext, [key]: false };
          return true;
        },
      },
    });
    patient = await bed.seedPatient({ slices: 24 });
  }, 120_000);

  afterAll(async () => {
    await bed.stop();
  }, HospitalTestBed.stopTimeoutMs);

  const finished = (transferId: string, timeoutMs = 90_000) =>
    eventually(
      async () => {
        const t = await bed.transfer(transferId);
        return t && ['completed', 'failed', 'refused', 'cancelled'].includes(t.status) ? t : undefined;
      },
      timeoutMs,
      250,
    );

  const item = (t: TransferDetail, kind: string) => t.items.find((i) => i.kind === kind && i.relevant)!;

  it('sends the relevant records, byte-identical at the target, reports the gaps, and completes', async () => {
    const command = bed.command(patient);
    await bed.send(command);
    const t = await finished(command.data.transferId);
    expect(t.status).toBe('completed');

    // The manifest: relevant items acknowledged with digests; the old dermatology letter left out (and why).
    const letter = t.items.find((i) => i.sourceReference === `DocumentReference/${patient.id}-letter`)!;
    expect(letter).toMatchObject({ status: 'acknowledged', sha256: patient.pdfSha256 });
    expect(t.items.find((i) => i.sourceReference === `DocumentReference/${patient.id}-old`)).toMatchObject({
      status: 'excluded',
      relevant: false,
    });
    const study = item(t, 'imaging-study');
    expect(study).toMatchObject({ status: 'acknowledged', instances: { total: 24, confirmed: 24, mismatches: 0 } });
    expect(item(t, 'diagnostic-report')).toMatchObject({ status: 'acknowledged' });

    // At the target: the file byte for byte, every image byte for byte, the report with its result and imaging.
    const records = await bed.targetRecords(patient.nhsNumber);
    expect(`DocumentReference/${records.DocumentReference![0]!.id}`).toBe(letter.targetReference);
    expect(await bed.targetBinarySha256(records.DocumentReference![0]!.content![0]!.attachment.url)).toBe(patient.pdfSha256);
    const source = await bed.studyAt(SOURCE, patient.studyUid);
    const target = await bed.studyAt(TARGET, patient.studyUid);
    expect(source.size).toBe(24);
    expect(target).toEqual(source);
    expect(records.Patient).toHaveLength(1);
    expect(records.DocumentReference).toHaveLength(1);
    expect(records.DiagnosticReport).toHaveLength(1);
    expect(records.Observation).toHaveLength(1);
    expect(records.ImagingStudy).toHaveLength(1);

    // The gap: the report's second study has no images at the source; reported, and in the manifest.
    expect(t.gaps).toEqual([expect.objectContaining({ kind: 'imaging-study', referencedBy: `DiagnosticReport/${patient.id}-echo` })]);
    const events = await eventually(async () => {
      const e = bed.eventsOf(command.data.transferId);
      return e.some((x) => x.type === 'records.transfer-completed.v1') ? e : undefined;
    });
    const types = events.map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'records.transfer-queued.v1',
        'records.transfer-started.v1',
        'records.item-sent.v1',
        'records.item-acknowledged.v1',
        'records.gaps-detected.v1',
        'records.transfer-completed.v1',
      ]),
    );
    expect(types.filter((x) => x === 'records.item-acknowledged.v1')).toHaveLength(3);
    // No event carries bytes or the patient's identifiers: ids and digests only.
    expect(JSON.stringify(events)).not.toContain(patient.nhsNumber);
  });

  it('sends nothing again for a second transfer of the same records: the target keeps one of each', async () => {
    const command = bed.command(patient);
    await bed.send(command);
    expect((await finished(command.data.transferId)).status).toBe('completed');
    const records = await bed.targetRecords(patient.nhsNumber);
    expect(records.DocumentReference).toHaveLength(1);
    expect(records.DiagnosticReport).toHaveLength(1);
    expect(records.Observation).toHaveLength(1);
    expect((await bed.studyAt(TARGET, patient.studyUid)).size).toBe(24);
  });

  it('starts one workflow however often the request is delivered', async () => {
    const command = bed.command(patient);
    await bed.send(command);
    await bed.send(command);
    await bed.send({ ...command, id: crypto.randomUUID() });
    await finished(command.data.transferId);
    const runs = [];
    for await (const w of bed.temporal.workflow.list({ query: `WorkflowId = "records-transfer/${command.data.transferId}"` })) runs.push(w);
    expect(runs).toHaveLength(1);
  });

  it('refuses a transfer with no lawful basis recorded, reading nothing', async () => {
    const command = bed.command(patient, { lawfulBasis: null });
    await bed.send(command);
    const t = await finished(command.data.transferId);
    expect(t).toMatchObject({ status: 'refused', items: [], gaps: [] });
    expect(t.reason).toMatch(/lawful basis/);
    await eventually(async () =>
      bed.eventsOf(command.data.transferId).some((e) => e.type === 'records.transfer-refused.v1') ? true : undefined,
    );
  });

  it('catches a corrupted byte by reading back, sends the item again, and reports the mismatch', async () => {
    corruptNext = { document: true, imaging: true };
    const other = await bed.seedPatient({ slices: 6 });
    const command = bed.command(other);
    await bed.send(command);
    const t = await finished(command.data.transferId);
    expect(t.status).toBe('completed');
    expect(corruptNext).toEqual({ document: false, imaging: false });
    const letter = t.items.find((i) => i.kind === 'document' && i.relevant)!;
    expect(letter.digestMismatches).toBe(1);
    expect(item(t, 'imaging-study').instances).toMatchObject({ total: 6, confirmed: 6, mismatches: 1 });
    expect(await bed.studyAt(TARGET, other.studyUid)).toEqual(await bed.studyAt(SOURCE, other.studyUid));
  }, 120_000);

  it('rides out a period of 503s from the EHR', async () => {
    const other = await bed.seedPatient({ slices: 4 });
    bed.httpFaults.fail(6);
    const command = bed.command(other);
    await bed.send(command);
    const t = await finished(command.data.transferId);
    expect(t.status).toBe('completed');
    expect(bed.httpFaults.refused).toBeGreaterThanOrEqual(6);
  }, 120_000);

  it('recovers from connections cut mid-body by the PACS', async () => {
    const other = await bed.seedPatient({ slices: 8 });
    // Slow the source PACS so the imaging is still sending when the cut starts.
    await bed.tox.addToxic(bed.proxies.sourcePacs, { name: 'slow', type: 'bandwidth', attributes: { rate: 256 } });
    try {
      const command = bed.command(other);
      await bed.send(command);
      await eventually(
        async () => {
          const s = (await bed.transfer(command.data.transferId))?.items.find((i) => i.kind === 'imaging-study' && i.relevant);
          return s?.status === 'sending' ? true : undefined;
        },
        60_000,
        100,
      );
      // Every connection is closed after 100 kB: each instance's body (about 512 kB) is cut off half-way.
      await bed.tox.addToxic(bed.proxies.sourcePacs, { name: 'cut', type: 'limit_data', attributes: { bytes: 100_000 } });
      await eventually(
        async () => {
          const s = (await bed.transfer(command.data.transferId))?.items.find((i) => i.kind === 'imaging-study' && i.relevant);
          return s && s.attempts >= 2 ? true : undefined;
        },
        60_000,
        250,
      );
      await bed.tox.removeToxic(bed.proxies.sourcePacs, 'cut');
      await bed.tox.removeToxic(bed.proxies.sourcePacs, 'slow');
      const t = await finished(command.data.transferId);
      expect(t.status).toBe('completed');
      expect(item(t, 'imaging-study').instances).toMatchObject({ total: 8, confirmed: 8 });
      expect(await bed.studyAt(TARGET, other.studyUid)).toEqual(await bed.studyAt(SOURCE, other.studyUid));
    } finally {
      await bed.tox.removeToxic(bed.proxies.sourcePacs, 'cut');
      await bed.tox.removeToxic(bed.proxies.sourcePacs, 'slow');
    }
  }, 150_000);

  it('recovers when the receiving PACS resets connections', async () => {
    const other = await bed.seedPatient({ slices: 4 });
    const command = bed.command(other);
    await bed.tox.addToxic(bed.proxies.targetPacs, { name: 'reset', type: 'reset_peer', attributes: { timeout: 0 } });
    try {
      await bed.send(command);
      await eventually(
        async () => {
          const s = (await bed.transfer(command.data.transferId))?.items.find((i) => i.kind === 'imaging-study' && i.relevant);
          return s && s.attempts >= 2 ? true : undefined;
        },
        60_000,
        250,
      );
    } finally {
      await bed.tox.removeToxic(bed.proxies.targetPacs, 'reset');
    }
    const t = await finished(command.data.transferId);
    expect(t.status).toBe('completed');
    expect(await bed.studyAt(TARGET, other.studyUid)).toEqual(await bed.studyAt(SOURCE, other.studyUid));
  }, 150_000);

  it('stops cleanly when the referral is withdrawn mid-way: what was sent stays recorded as sent', async () => {
    const other = await bed.seedPatient({ slices: 40 });
    await bed.tox.addToxic(bed.proxies.sourcePacs, { name: 'slow', type: 'bandwidth', attributes: { rate: 1024 } });
    try {
      const command = bed.command(other);
      await bed.send(command);
      await eventually(
        async () => {
          const s = (await bed.transfer(command.data.transferId))?.items.find((i) => i.kind === 'imaging-study' && i.relevant);
          return s?.instances && s.instances.confirmed >= 3 ? true : undefined;
        },
        60_000,
        200,
      );
      await bed.cancel(command.data.referralId, command.data.transferId);
      const t = await finished(command.data.transferId);
      expect(t.status).toBe('cancelled');
      expect(t.reason).toBe('referral withdrawn');
      // Consistent: the letter was confirmed before the imaging started; nothing is left half-way ("sending").
      expect(t.items.find((i) => i.kind === 'document' && i.relevant)!.status).toBe('acknowledged');
      expect(t.items.some((i) => i.status === 'sending')).toBe(false);
      const study = item(t, 'imaging-study');
      expect(study.status).toBe('pending');
      expect(study.instances!.confirmed).toBeGreaterThanOrEqual(3);
      expect(study.instances!.confirmed).toBeLessThan(40);
      const cancelled = await eventually(async () =>
        bed.eventsOf(command.data.transferId).find((e) => e.type === 'records.transfer-cancelled.v1'),
      );
      expect(cancelled.data).toMatchObject({ reason: 'referral withdrawn', itemsSent: 1 });
      const d = await bed.temporal.workflow.getHandle(`records-transfer/${command.data.transferId}`).describe();
      expect(d.status.name).toBe('COMPLETED');
    } finally {
      await bed.tox.removeToxic(bed.proxies.sourcePacs, 'slow');
    }
  }, 150_000);
});
