import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { entryDigest } from './chain';
import { CheckpointKeyring, CheckpointSigner } from './checkpoint';
import { fromNdjson, sealPack, toNdjson, UNSEALED_EVIDENCE_FORMAT, verifyEvidence, type EvidencePack, type PackSeal } from './evidence';
import { packFromFhirBundle, toFhirBundle } from './fhir';
import { draftOf, memoryChain } from '../../test/test-chain';

const signer = new CheckpointSigner(generateKeyPairSync('ed25519').privateKey);
const keyring = CheckpointKeyring.fromPem(signer.publicKeyPem());
const mine = randomUUID();
const other = randomUUID();
// Entries 1..8: the referral's are 2, 5 and 8; checkpoints at 4 and 8.
const rows = memoryChain(
  [other, mine, other, other, mine, other, other, mine].map((s, i) =>
    draftOf(
      s,
      s === mine && i === 1
        ? { patient: { nhsNumber: '9434765919' } }
        : {
            actor: { subject: 'dr-who', role: 'clinician', organisation: 'RJ1' },
            purpose: 'direct-care',
            resource: { service: 'referral', kind: 'referral', action: 'read' },
          },
      s === mine && i === 1 ? 'referral.requested.v1' : 'access.recorded.v1',
    ),
  ),
);
const cp4 = signer.sign('sonet-audit', '4', rows[3]!.hash, 'periodic');
const cp8 = signer.sign('sonet-audit', '8', rows[7]!.hash, 'on-demand');
const segment = (from: number, to: number, cp: typeof cp4) => ({
  fromSeq: String(from),
  toSeq: String(to),
  prevHash: rows[from - 2]?.hash.toString('hex') ?? Buffer.alloc(32).toString('hex'),
  digests: rows.slice(from - 1, to).map((r) => entryDigest(Buffer.from(r.canonical)).toString('hex')),
  checkpoint: cp,
});
const pack: EvidencePack = sealPack(
  {
    chain: 'sonet-audit',
    referralId: mine,
    exportedAt: '2026-11-25T12:00:00.000Z',
    publicKeyPem: signer.publicKeyPem(),
    entries: rows
      .filter((r) => JSON.parse(r.canonical).event.subject === mine)
      .map((r) => ({ seq: String(r.seq), hash: r.hash.toString('hex'), canonical: r.canonical })),
    proof: [segment(2, 4, cp4), segment(5, 8, cp8)],
  },
  signer,
);
const [e2, e5, e8] = pack.entries as [EvidencePack['entries'][number], EvidencePack['entries'][number], EvidencePack['entries'][number]];
const withEntries = (entries: EvidencePack['entries']): EvidencePack => ({ ...pack, entries });
const withSeal = (change: Partial<PackSeal>): EvidencePack => ({ ...pack, seal: { ...pack.seal!, ...change } });

describe('an evidence pack, checked offline', () => {
  it('verifies when every entry leads to a signed checkpoint', () => {
    expect(verifyEvidence(pack, keyring)).toEqual({ ok: true, entries: 3, segments: 2, completeness: 'sealed', problems: [] });
  });

  it('carries only digests of the other referrals’ entries, never their content', () => {
    const text = toNdjson(pack);
    for (const r of rows.filter((x) => JSON.parse(x.canonical).event.subject === other))
      expect(text).not.toContain(JSON.parse(r.canonical).event.id);
  });

  it('survives NDJSON and a FHIR bundle round trip', () => {
    expect(verifyEvidence(fromNdjson(toNdjson(pack)), keyring).ok).toBe(true);
    expect(verifyEvidence(packFromFhirBundle(toFhirBundle(pack)), keyring).ok).toBe(true);
  });

  it('finds a changed entry', () => {
    const changed = {
      ...pack,
      entries: pack.entries.map((e) => (e.seq === '5' ? { ...e, canonical: e.canonical.replace('dr-who', 'dr-no') } : e)),
    };
    expect(verifyEvidence(changed, keyring).problems).toContain('entry 5 was changed: its digest is not the one in the chain');
  });

  it('finds a proof that does not lead to the checkpoint (a digest swapped)', () => {
    const swapped = { ...pack, proof: [pack.proof[0]!, { ...pack.proof[1]!, digests: [...pack.proof[1]!.digests].reverse() }] };
    expect(verifyEvidence(swapped, keyring).ok).toBe(false);
  });

  it('refuses a pack signed by a key the auditor does not hold', () => {
    const otherKey = CheckpointKeyring.fromPem(new CheckpointSigner(generateKeyPairSync('ed25519').privateKey).publicKeyPem());
    expect(verifyEvidence(pack, otherKey).problems).toContain('checkpoint at seq 4: unknown-key');
  });

  it('finds an entry left out of the proof', () => {
    expect(verifyEvidence({ ...pack, proof: [pack.proof[1]!] }, keyring).problems).toContain('entry 2 is not covered by the proof');
  });
});

describe('an evidence pack, checked for completeness against its seal', () => {
  // Every fault is a proof-valid pack: each remaining entry is still in the chain, so only the seal can tell.
  it.each<[string, () => EvidencePack, string | RegExp]>([
    ['an entry removed from the middle', () => withEntries([e2, e8]), 'entry 5 was removed'],
    [
      'the tail truncated',
      () => withEntries([e2, e5]),
      'the pack is truncated: entries 8 are missing at the end (it ends at 5 but was sealed up to 8)',
    ],
    ['the head cut off', () => withEntries([e5, e8]), 'the pack lost its first entries: 2 (it starts at 5 but was sealed from 2)'],
    ['every entry removed', () => withEntries([]), 'every entry was removed: the pack was sealed with 3'],
    ['an entry duplicated', () => withEntries([e2, e5, e5, e8]), 'entry 5 is duplicated: it appears 2 times'],
    ['two entries swapped', () => withEntries([e2, e8, e5]), 'entries 5 and 8 swapped places'],
    [
      'the entries rotated',
      () => withEntries([e5, e8, e2]),
      'the entries are reordered: 5 stands where 2 belongs (3 entries out of place)',
    ],
    ['an entry count claim changed', () => withSeal({ entryCount: 4 }), 'the pack claims 4 entries but its sealed list has 3'],
    ['a range claim changed', () => withSeal({ lastSeq: '9' }), 'the pack claims the range 2..9 but its sealed list runs 2..8'],
    [
      'the sealed list shortened with its claims, to hide a removal',
      () => withSeal({ entryCount: 2, seqs: ['2', '8'], lastSeq: '8' }),
      'entry 5 was added: it is not among the entries the pack was sealed with',
    ],
    [
      'the seal signature tampered with',
      () => withSeal({ signature: Buffer.alloc(64, 7).toString('base64') }),
      'the pack seal does not hold (bad-signature): its claims or entry list were changed after export, or another key sealed it',
    ],
    [
      'the seal made with another key',
      () => sealPack(pack, new CheckpointSigner(generateKeyPairSync('ed25519').privateKey)),
      /^the pack seal does not hold \(unknown-key\)/,
    ],
    ['a sealed entry outside the proof', () => ({ ...pack, proof: [pack.proof[1]!] }), 'sealed entry 2 is not covered by the chain proof'],
  ])('reports %s with its own reason', (_what, tamper, reason) => {
    const check = verifyEvidence(tamper(), keyring);
    expect(check.ok).toBe(false);
    expect(check.problems).toContainEqual(typeof reason === 'string' ? reason : expect.stringMatching(reason));
  });

  it('does not mistake one fault for another', () => {
    expect(verifyEvidence(withEntries([e2, e8, e5]), keyring).problems.filter((p) => /removed|truncated|duplicated/.test(p))).toEqual([]);
    expect(verifyEvidence(withEntries([e2, e5]), keyring).problems.filter((p) => /swapped|reordered|was removed/.test(p))).toEqual([]);
  });

  it('finds entries reordered in a FHIR bundle too', () => {
    const bundle = toFhirBundle(pack) as unknown as { entry: unknown[] };
    const [a, b, c, ...rest] = bundle.entry;
    const reordered = { ...bundle, entry: [a, c, b, ...rest] } as unknown as Parameters<typeof packFromFhirBundle>[0];
    expect(verifyEvidence(packFromFhirBundle(reordered), keyring).problems).toContain('entries 5 and 8 swapped places');
  });

  describe('a pack exported before seals (format /1)', () => {
    const { seal: _seal, ...rest } = pack;
    const unsealed: EvidencePack = { ...rest, format: UNSEALED_EVIDENCE_FORMAT };

    it('is refused with the reason that it predates the completeness check', () => {
      expect(verifyEvidence(unsealed, keyring).problems).toEqual([
        'the pack predates completeness seals (sonet.audit.evidence/1, before ADR 0011): removed entries cannot be detected in it; export it again (or check its entries alone with --accept-unsealed)',
      ]);
    });

    it('has its entries checked when the auditor accepts that, marked unsealed', () => {
      expect(verifyEvidence(fromNdjson(toNdjson(unsealed)), keyring, { acceptUnsealed: true })).toMatchObject({
        ok: true,
        completeness: 'unsealed',
      });
      expect(
        verifyEvidence({ ...unsealed, entries: [e2, { ...e5, canonical: e5.canonical.replace('dr-who', 'dr-no') }] }, keyring, {
          acceptUnsealed: true,
        }).ok,
      ).toBe(false);
    });
  });
});

describe('the FHIR R4 bundle (IHE BALP)', () => {
  const bundle = toFhirBundle(pack) as unknown as { type: string; entry: { resource: Record<string, unknown> }[] };
  const events = bundle.entry.map((e) => e.resource).filter((r) => r.resourceType === 'AuditEvent');

  it('is a collection of one AuditEvent per entry and a Binary with the proof', () => {
    expect(bundle.type).toBe('collection');
    expect(events).toHaveLength(3);
    expect(bundle.entry.filter((e) => e.resource.resourceType === 'Binary')).toHaveLength(1);
  });

  it('shapes a read of patient data as a BALP patient read with who, why and which patient', () => {
    const read = events.find((e) => (e.subtype as { code: string }[]).some((s) => s.code === 'access.recorded.v1'))!;
    expect(read).toMatchObject({
      meta: { profile: ['https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientRead'] },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
      action: 'R',
      outcome: '0',
      purposeOfEvent: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }] }],
    });
    expect(read.agent).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ requestor: true, who: { identifier: { system: 'urn:sonet:principal', value: 'dr-who' } } }),
      ]),
    );
    expect(read.entity).toEqual(
      expect.arrayContaining([expect.objectContaining({ role: expect.objectContaining({ code: '1', display: 'Patient' }) })]),
    );
  });

  it('names the patient by keyed digest only', () => {
    expect(JSON.stringify(bundle)).not.toContain('9434765919');
  });
});
