import { ChainFolder, entryDigest } from './chain';
import type { Checkpoint, CheckpointKeyring } from './checkpoint';
import { parseEntry } from './entry-document';

export const EVIDENCE_FORMAT = 'sonet.audit.evidence/1';

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

export interface EvidencePack {
  readonly format: typeof EVIDENCE_FORMAT;
  readonly chain: string;
  readonly referralId: string;
  readonly exportedAt: string;
  /** The checkpoint key, for convenience only: verify against a key you obtained independently. */
  readonly publicKeyPem: string;
  readonly entries: readonly EvidenceEntry[];
  readonly proof: readonly ProofSegment[];
}

export interface EvidenceCheck {
  readonly ok: boolean;
  readonly entries: number;
  readonly segments: number;
  readonly problems: readonly string[];
}

/** Verifies an evidence pack offline: every entry is covered by a segment that folds to a checkpoint signed by a trusted key. */
export function verifyEvidence(pack: EvidencePack, keyring: CheckpointKeyring): EvidenceCheck {
  const problems: string[] = [];
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
        if (entryDigest(Buffer.from(entry.canonical, 'utf8')).toString('hex') !== d) problems.push(`entry ${seq} was changed: its digest is not the one in the chain`);
        if (parseEntry(entry.canonical).seq !== seq) problems.push(`entry ${seq} says it is at another position`);
      }
      const head = folder.digest(Buffer.from(d, 'hex'));
      if (entry && head.toString('hex') !== entry.hash) problems.push(`entry ${seq}: its hash does not follow from the chain`);
    });
    if (folder.head.toString('hex') !== s.checkpoint.head) problems.push(`segment ${s.fromSeq}..${s.toSeq} does not lead to the signed checkpoint at seq ${s.toSeq}`);
  }
  for (const e of pack.entries) {
    if (!covered.has(e.seq)) problems.push(`entry ${e.seq} is not covered by the proof`);
    else if (parseEntry(e.canonical).event.subject !== pack.referralId) problems.push(`entry ${e.seq} is about another referral`);
  }
  return { ok: problems.length === 0, entries: pack.entries.length, segments: pack.proof.length, problems };
}

/** NDJSON: a header line, one line per entry, one line per proof segment. */
export function toNdjson(pack: EvidencePack): string {
  const { entries, proof, ...header } = pack;
  const lines = [
    JSON.stringify({ record: 'header', ...header, entryCount: entries.length }),
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
  if (!header || header.format !== EVIDENCE_FORMAT) throw new Error(`not a ${EVIDENCE_FORMAT} NDJSON pack`);
  return { ...header, entries, proof };
}
