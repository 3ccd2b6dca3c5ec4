import { ChainFolder, entryDigest, sha256 } from './chain';
import type { Checkpoint, CheckpointKeyring, CheckpointSigner } from './checkpoint';
import { parseEntry } from './entry-document';

/** Packs carry a seal over their entry list since /2 (ADR 0011); /1 packs have none and cannot be shown complete. */
export const EVIDENCE_FORMAT = 'sonet.audit.evidence/2';
export const UNSEALED_EVIDENCE_FORMAT = 'sonet.audit.evidence/1';
const SEAL_DOMAIN = 'sonet.audit.evidence-seal/1';

/** One entry of an evidence pack: its canonical text (what was hashed) and its hash in the chain. */
export interface EvidenceEntry {
  readonly seq: string;
  readonly hash: string;
  readonly canonical: string;
}

/**
 * Proof that entries fromSeq..toSeq (the pack's entries among them) lead to a signed checkpoint: starting from
 * hash(fromSeq - 1), fold the digests of every entry up to toSeq; the result must be the checkpoint's head. The
 * digests of other referrals' entries reveal nothing of their content.
 */
export interface ProofSegment {
  readonly fromSeq: string;
  readonly toSeq: string;
  /** hash(entry fromSeq - 1), hex. */
  readonly prevHash: string;
  /** digest(entry) for fromSeq..toSeq, hex, in order. */
  readonly digests: readonly string[];
  readonly checkpoint: Checkpoint;
}

/**
 * What the service exported, signed with the checkpoint key: how many entries, which (their seqs, in order), and a
 * digest over each one's seq and chain hash. The chain proof shows that each entry is in the chain; only the seal
 * shows that none was left out, repeated or moved.
 */
export interface PackSeal {
  readonly entryCount: number;
  /** The first and last seq, null for an empty pack. */
  readonly firstSeq: string | null;
  readonly lastSeq: string | null;
  readonly seqs: readonly string[];
  /** SHA-256 over "seq hash\n" of every entry in order, hex. */
  readonly entriesDigest: string;
  readonly keyId: string;
  /** Ed25519 over sealMessage(...), base64. */
  readonly signature: string;
}

export interface EvidencePack {
  readonly format: typeof EVIDENCE_FORMAT | typeof UNSEALED_EVIDENCE_FORMAT;
  readonly chain: string;
  readonly referralId: string;
  readonly exportedAt: string;
  /** The checkpoint key, for convenience only: verify against a key you obtained independently. */
  readonly publicKeyPem: string;
  readonly entries: readonly EvidenceEntry[];
  readonly proof: readonly ProofSegment[];
  /** Absent only in packs exported before ADR 0011 (format /1). */
  readonly seal?: PackSeal;
}

export interface EvidenceCheck {
  readonly ok: boolean;
  readonly entries: number;
  readonly segments: number;
  /** sealed: the pack is shown complete; unsealed: a pre-ADR-0011 pack whose entries alone were checked (on request). */
  readonly completeness: 'sealed' | 'unsealed';
  readonly problems: readonly string[];
}

export interface EvidenceCheckOptions {
  /** Check the entries of a pack exported before seals existed, knowing that omissions cannot be seen in it. */
  readonly acceptUnsealed?: boolean;
}

const digestOfEntries = (entries: readonly Pick<EvidenceEntry, 'seq' | 'hash'>[]): string =>
  sha256(Buffer.from(entries.map((e) => `${e.seq} ${e.hash}\n`).join(''), 'utf8')).toString('hex');

/** The signed bytes of a seal: a domain string no checkpoint starts with, then the pack's identity and claims. */
export const sealMessage = (
  pack: Pick<EvidencePack, 'chain' | 'referralId' | 'exportedAt'>,
  seal: Omit<PackSeal, 'keyId' | 'signature'>,
): Buffer =>
  Buffer.from(
    [
      SEAL_DOMAIN,
      pack.chain,
      pack.referralId,
      pack.exportedAt,
      seal.entryCount,
      seal.firstSeq ?? '',
      seal.lastSeq ?? '',
      seal.seqs.join(','),
      seal.entriesDigest,
      '',
    ].join('\n'),
    'utf8',
  );

/** Seals a pack as exported: its entries, in order, are the whole of what it claims. */
export function sealPack(pack: Omit<EvidencePack, 'seal' | 'format'>, signer: CheckpointSigner): EvidencePack {
  const seqs = pack.entries.map((e) => e.seq);
  const claims = {
    entryCount: seqs.length,
    firstSeq: seqs[0] ?? null,
    lastSeq: seqs[seqs.length - 1] ?? null,
    seqs,
    entriesDigest: digestOfEntries(pack.entries),
  };
  return { ...pack, format: EVIDENCE_FORMAT, seal: { ...claims, ...signer.signStatement(sealMessage(pack, claims)) } };
}

/**
 * Verifies an evidence pack offline: every entry is covered by a segment that folds to a checkpoint signed by a
 * trusted key, and the pack holds exactly the entries it was sealed with, once each, in order.
 */
export function verifyEvidence(pack: EvidencePack, keyring: CheckpointKeyring, options: EvidenceCheckOptions = {}): EvidenceCheck {
  const problems: string[] = [...completenessProblems(pack, keyring, options)];
  const bySeq = new Map(pack.entries.map((e) => [e.seq, e]));
  const covered = new Set<string>();
  for (const s of pack.proof) {
    const from = BigInt(s.fromSeq);
    const to = BigInt(s.toSeq);
    if (to - from + 1n !== BigInt(s.digests.length)) {
      problems.push(`segment ${s.fromSeq}..${s.toSeq} has ${s.digests.length} digests`);
      continue;
    }
    if (s.checkpoint.seq !== s.toSeq || s.checkpoint.chain !== pack.chain) {
      problems.push(`segment ${s.fromSeq}..${s.toSeq} ends at a checkpoint of another position or chain`);
      continue;
    }
    const sig = keyring.check(s.checkpoint);
    if (sig !== 'valid') problems.push(`checkpoint at seq ${s.checkpoint.seq}: ${sig}`);
    const folder = new ChainFolder(Buffer.from(s.prevHash, 'hex'));
    s.digests.forEach((d, i) => {
      const seq = (from + BigInt(i)).toString();
      const entry = bySeq.get(seq);
      if (entry) {
        covered.add(seq);
        if (entryDigest(Buffer.from(entry.canonical, 'utf8')).toString('hex') !== d)
          problems.push(`entry ${seq} was changed: its digest is not the one in the chain`);
        if (parseEntry(entry.canonical).seq !== seq) problems.push(`entry ${seq} says it is at another position`);
      }
      const head = folder.digest(Buffer.from(d, 'hex'));
      if (entry && head.toString('hex') !== entry.hash) problems.push(`entry ${seq}: its hash does not follow from the chain`);
    });
    if (folder.head.toString('hex') !== s.checkpoint.head)
      problems.push(`segment ${s.fromSeq}..${s.toSeq} does not lead to the signed checkpoint at seq ${s.toSeq}`);
  }
  for (const e of pack.entries) {
    if (!covered.has(e.seq)) problems.push(`entry ${e.seq} is not covered by the proof`);
    else if (parseEntry(e.canonical).event.subject !== pack.referralId) problems.push(`entry ${e.seq} is about another referral`);
  }
  return {
    ok: problems.length === 0,
    entries: pack.entries.length,
    segments: pack.proof.length,
    completeness: pack.seal ? 'sealed' : 'unsealed',
    problems,
  };
}

/** Why the pack is not the whole, ordered set of entries it was sealed with (each fault in words of its own). */
function completenessProblems(pack: EvidencePack, keyring: CheckpointKeyring, options: EvidenceCheckOptions): string[] {
  const seal = pack.seal;
  if (!seal) {
    return options.acceptUnsealed
      ? []
      : [
          `the pack predates completeness seals (${pack.format}, before ADR 0011): removed entries cannot be detected in it; export it again (or check its entries alone with --accept-unsealed)`,
        ];
  }
  const problems: string[] = [];
  const sig = keyring.checkStatement(sealMessage(pack, seal), seal);
  if (sig !== 'valid')
    problems.push(`the pack seal does not hold (${sig}): its claims or entry list were changed after export, or another key sealed it`);
  problems.push(
    ...claimProblems(seal),
    ...entryListProblems(
      pack.entries.map((e) => e.seq),
      seal.seqs,
    ),
  );
  if (pack.entries.length !== seal.entryCount)
    problems.push(`the pack holds ${pack.entries.length} entries, not the ${seal.entryCount} it was exported with`);
  if (problems.length === 0 && digestOfEntries(pack.entries) !== seal.entriesDigest)
    problems.push('the entries’ hashes are not the ones the pack was sealed with');
  problems.push(...rangeProofProblems(seal, pack.proof));
  return problems;
}

/** The count and range claims against the sealed list of seqs they summarise. */
function claimProblems(seal: PackSeal): string[] {
  const problems: string[] = [];
  if (seal.entryCount !== seal.seqs.length)
    problems.push(`the pack claims ${seal.entryCount} entries but its sealed list has ${seal.seqs.length}`);
  const first = seal.seqs[0] ?? null;
  const last = seal.seqs[seal.seqs.length - 1] ?? null;
  if (seal.firstSeq !== first || seal.lastSeq !== last) {
    problems.push(
      `the pack claims the range ${seal.firstSeq ?? '-'}..${seal.lastSeq ?? '-'} but its sealed list runs ${first ?? '-'}..${last ?? '-'}`,
    );
  }
  return problems;
}

/** The entries as they are in the pack against the sealed list: duplicated, added, removed, truncated, reordered. */
export function entryListProblems(actual: readonly string[], sealed: readonly string[]): string[] {
  const problems: string[] = [];
  const expected = new Set(sealed);
  const seen = new Map<string, number>();
  for (const seq of actual) seen.set(seq, (seen.get(seq) ?? 0) + 1);
  for (const [seq, n] of seen) {
    if (n > 1) problems.push(`entry ${seq} is duplicated: it appears ${n} times`);
    if (!expected.has(seq)) problems.push(`entry ${seq} was added: it is not among the entries the pack was sealed with`);
  }
  const present = sealed.map((seq) => seen.has(seq));
  const firstPresent = present.indexOf(true);
  const lastPresent = present.lastIndexOf(true);
  const missing = (from: number, to: number) => sealed.slice(from, to).filter((_, i) => !present[from + i]);
  if (firstPresent === -1 && sealed.length > 0) problems.push(`every entry was removed: the pack was sealed with ${sealed.length}`);
  if (firstPresent > 0)
    problems.push(
      `the pack lost its first entries: ${missing(0, firstPresent).join(', ')} (it starts at ${sealed[firstPresent]} but was sealed from ${sealed[0]})`,
    );
  if (firstPresent !== -1) {
    for (const seq of missing(firstPresent, lastPresent)) problems.push(`entry ${seq} was removed`);
  }
  if (lastPresent !== -1 && lastPresent < sealed.length - 1) {
    problems.push(
      `the pack is truncated: entries ${missing(lastPresent + 1, sealed.length).join(', ')} are missing at the end ` +
        `(it ends at ${sealed[lastPresent]} but was sealed up to ${sealed[sealed.length - 1]})`,
    );
  }
  problems.push(
    ...orderProblems(
      [...new Set(actual)].filter((seq) => expected.has(seq)),
      sealed.filter((_, i) => present[i]),
    ),
  );
  return problems;
}

/** The kept entries in pack order against the sealed order: two that changed places, or the first out of place. */
function orderProblems(actual: readonly string[], sealed: readonly string[]): string[] {
  const wrong = actual.map((seq, i) => (seq === sealed[i] ? -1 : i)).filter((i) => i >= 0);
  if (wrong.length === 0) return [];
  const [i, j] = wrong as [number, number];
  if (wrong.length === 2 && actual[i] === sealed[j] && actual[j] === sealed[i])
    return [`entries ${sealed[i]} and ${sealed[j]} swapped places`];
  return [`the entries are reordered: ${actual[i]} stands where ${sealed[i]} belongs (${wrong.length} entries out of place)`];
}

/** The sealed range lies inside the chain proof: the claims are held to the checkpoints, not just to themselves. */
function rangeProofProblems(seal: PackSeal, proof: readonly ProofSegment[]): string[] {
  if (seal.firstSeq === null || seal.lastSeq === null) return [];
  const inProof = (seq: string) => proof.some((s) => BigInt(s.fromSeq) <= BigInt(seq) && BigInt(seq) <= BigInt(s.toSeq));
  return seal.seqs
    .filter((seq) => /^[0-9]{1,19}$/.test(seq) && !inProof(seq))
    .map((seq) => `sealed entry ${seq} is not covered by the chain proof`);
}

/** NDJSON: a header line, one line per entry, one line per proof segment. */
export function toNdjson(pack: EvidencePack): string {
  const { entries, proof, ...header } = pack;
  const lines = [
    JSON.stringify({ record: 'header', ...header }),
    ...entries.map((e) => JSON.stringify({ record: 'entry', ...e })),
    ...proof.map((s) => JSON.stringify({ record: 'proof', ...s })),
  ];
  return `${lines.join('\n')}\n`;
}

export function fromNdjson(text: string): EvidencePack {
  let header: Omit<EvidencePack, 'entries' | 'proof'> | undefined;
  const entries: EvidenceEntry[] = [];
  const proof: ProofSegment[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const { record, ...rest } = JSON.parse(line) as { record: string } & Record<string, unknown>;
    if (record === 'header') header = rest as unknown as Omit<EvidencePack, 'entries' | 'proof'>;
    else if (record === 'entry') entries.push(rest as unknown as EvidenceEntry);
    else if (record === 'proof') proof.push(rest as unknown as ProofSegment);
  }
  if (!header || (header.format !== EVIDENCE_FORMAT && header.format !== UNSEALED_EVIDENCE_FORMAT))
    throw new Error(`not a ${EVIDENCE_FORMAT} NDJSON pack`);
  return { ...header, entries, proof };
}
