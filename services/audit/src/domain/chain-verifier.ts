import { ChainFolder, GENESIS_HASH, HASH_BYTES } from './chain';
import type { Checkpoint, CheckpointKeyring } from './checkpoint';

/** Where and why the chain stops being what was recorded. */
export interface ChainBreak {
  /** The first sequence number that does not verify (for a missing entry: the one that is missing). */
  readonly seq: string;
  readonly reason: 'changed' | 'missing' | 'duplicate-or-out-of-order' | 'prefix-missing' | 'tail-missing' | 'checkpoint-mismatch' | 'checkpoint-signature' | 'checkpoint-unknown-key' | 'checkpoint-missing-in-database';
  readonly detail: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly chain: string;
  readonly entries: number;
  readonly firstSeq: string | null;
  readonly lastSeq: string | null;
  /** hash(last entry), hex, as recomputed. */
  readonly head: string | null;
  /** Where verification started from: genesis, or a signed checkpoint (after retention, or for a partial run). */
  readonly anchor: { readonly seq: string; readonly kind: string } | null;
  readonly checkpointsChecked: number;
  readonly firstBreak: ChainBreak | null;
  /** Up to 100 breaks, in seq order (after a break the check goes on from the stored hash, to find the others). */
  readonly breaks: readonly ChainBreak[];
  readonly durationMs: number;
}

export interface ChainVerifierOptions {
  readonly chain: string;
  readonly keyring: CheckpointKeyring;
  /** The database's checkpoints of this chain. */
  readonly checkpoints: readonly Checkpoint[];
  /** Checkpoints kept outside the database (the checkpoint log); each must also match the chain. */
  readonly externalCheckpoints?: readonly Checkpoint[];
  /** Start after this checkpoint instead of genesis (partial verification); it must be signed and valid. */
  readonly startAfter?: Checkpoint;
  /** The last retention run's statement: it dropped every entry up to `toSeq` and anchored the rest at that checkpoint. */
  readonly retention?: { readonly toSeq: string } | null;
}

const MAX_BREAKS = 100;

/**
 * Recomputes the chain from the rows, in seq order, and holds it to the signed checkpoints. Feed rows with
 * `push` (stored hashes and canonical bytes in one buffer the verifier may write one byte before), then call `finish`.
 * Pure: no I/O, so the same code checks the database (GET /v1/audit/verify, `audit verify`) and the tests.
 */
export class ChainVerifier {
  private readonly started = Date.now();
  private readonly breaks: ChainBreak[] = [];
  private folder: ChainFolder | undefined;
  private expected = 0;
  private first: number | null = null;
  private last: number | null = null;
  private count = 0;
  private anchor: { seq: string; kind: string } | null = null;
  /** Checkpoints by seq, sorted, with a cursor: a row is compared only when it is the next checkpoint's seq. */
  private readonly due: { seq: number; cp: Checkpoint; source: 'database' | 'external' }[];
  private cursor = 0;
  private checked = 0;
  private readonly dbSeqs: Set<string>;

  constructor(private readonly options: ChainVerifierOptions) {
    this.dbSeqs = new Set(options.checkpoints.map((c) => c.seq));
    const all = [
      ...options.checkpoints.map((cp) => ({ seq: Number(cp.seq), cp, source: 'database' as const })),
      ...(options.externalCheckpoints ?? []).map((cp) => ({ seq: Number(cp.seq), cp, source: 'external' as const })),
    ].filter((c) => c.cp.chain === options.chain);
    this.due = all.sort((a, b) => a.seq - b.seq);
    for (const c of this.due) {
      const sig = options.keyring.check(c.cp);
      if (sig !== 'valid') {
        this.fail({ seq: c.cp.seq, reason: sig === 'unknown-key' ? 'checkpoint-unknown-key' : 'checkpoint-signature', detail: `${c.source} checkpoint at seq ${c.cp.seq} is not signed by a trusted key (${sig})` });
      }
      if (c.source === 'external' && !this.dbSeqs.has(c.cp.seq)) {
        this.fail({ seq: c.cp.seq, reason: 'checkpoint-missing-in-database', detail: `the checkpoint log has a checkpoint at seq ${c.cp.seq} that the database no longer holds` });
      }
    }
  }

  /**
   * One row, all of it in `buf`: its stored prev_hash at buf[prevStart], its stored hash at buf[hashStart] (32 bytes
   * each) and its canonical bytes as buf[start, end); buf[start - 1] may be overwritten.
   */
  push(seq: number, buf: Buffer, prevStart: number, hashStart: number, start: number, end: number): void {
    if (this.folder === undefined) this.begin(seq, buf.subarray(prevStart, prevStart + HASH_BYTES));
    const folder = this.folder!;
    if (seq !== this.expected) {
      if (seq < this.expected) {
        this.fail({ seq: String(seq), reason: 'duplicate-or-out-of-order', detail: `entry ${seq} appears again or out of order (expected ${this.expected})` });
        return;
      }
      this.fail({ seq: String(this.expected), reason: 'missing', detail: seq - this.expected === 1 ? `entry ${this.expected} is missing` : `entries ${this.expected} to ${seq - 1} are missing` });
      // Go on from what the next row says it follows, to find any later, independent break.
      folder.resetTo(buf, prevStart);
      this.passCheckpointsBefore(seq);
    }
    const prevMatches = folder.headEquals(buf, prevStart);
    folder.leafInPlace(buf, start, end);
    if (!prevMatches || !folder.headEquals(buf, hashStart)) {
      this.fail({ seq: String(seq), reason: 'changed', detail: prevMatches ? `entry ${seq} does not hash to its stored hash: it was changed` : `entry ${seq} does not follow the entry before it` });
      folder.resetTo(buf, hashStart);
    }
    if (this.cursor < this.due.length && this.due[this.cursor]!.seq <= seq) this.checkpointsAt(seq, folder);
    this.expected = seq + 1;
    this.last = seq;
    this.count++;
  }

  private checkpointsAt(seq: number, folder: ChainFolder): void {
    while (this.cursor < this.due.length && this.due[this.cursor]!.seq <= seq) {
      const c = this.due[this.cursor++]!;
      if (c.seq < seq) continue;
      this.checked++;
      if (folder.headHex !== c.cp.head) {
        this.fail({ seq: c.cp.seq, reason: 'checkpoint-mismatch', detail: `the chain at seq ${c.cp.seq} differs from the ${c.source} checkpoint signed ${c.cp.signedAt}: entries up to it were changed, removed or inserted` });
      }
    }
  }

  finish(): VerifyReport {
    if (this.folder === undefined && this.due.length > 0) {
      const c = this.due[0]!;
      this.fail({ seq: String(this.options.startAfter ? Number(this.options.startAfter.seq) + 1 : 1), reason: 'tail-missing', detail: `the log is empty but a checkpoint covers seq ${c.cp.seq}` });
    }
    for (; this.cursor < this.due.length; this.cursor++) {
      const c = this.due[this.cursor]!;
      if (this.options.startAfter && c.seq <= Number(this.options.startAfter.seq)) continue;
      if (this.last !== null && c.seq > this.last) {
        this.fail({ seq: String(this.last + 1), reason: 'tail-missing', detail: `the log ends at seq ${this.last} but a ${c.source} checkpoint covers seq ${c.cp.seq}: entries after ${this.last} were removed` });
        break;
      }
    }
    const sorted = [...this.breaks].sort((a, b) => Number(a.seq) - Number(b.seq)).slice(0, MAX_BREAKS);
    return {
      ok: sorted.length === 0,
      chain: this.options.chain,
      entries: this.count,
      firstSeq: this.first === null ? null : String(this.first),
      lastSeq: this.last === null ? null : String(this.last),
      head: this.folder ? this.folder.headHex : null,
      anchor: this.anchor,
      checkpointsChecked: this.checked,
      firstBreak: sorted[0] ?? null,
      breaks: sorted,
      durationMs: Date.now() - this.started,
    };
  }

  private begin(seq: number, storedPrev: Uint8Array): void {
    this.first = seq;
    const start = this.options.startAfter;
    if (start) {
      this.anchor = { seq: start.seq, kind: start.kind };
      this.folder = new ChainFolder(Buffer.from(start.head, 'hex'));
      this.expected = Number(start.seq) + 1;
    } else if (seq === 1) {
      this.folder = new ChainFolder(GENESIS_HASH);
      this.expected = 1;
    } else {
      // Entries before `seq` are gone: legitimately only if a retention run said so and signed where it cut.
      const anchorSeq = String(seq - 1);
      const cp = this.due.find((c) => c.cp.seq === anchorSeq && c.source === 'database')?.cp;
      const declared = this.options.retention?.toSeq === anchorSeq;
      if (cp && declared && this.options.keyring.check(cp) === 'valid') {
        this.anchor = { seq: anchorSeq, kind: cp.kind };
        this.folder = new ChainFolder(Buffer.from(cp.head, 'hex'));
      } else {
        this.fail({ seq: '1', reason: 'prefix-missing', detail: `the log starts at seq ${seq}: entries 1 to ${seq - 1} are missing${declared ? ' and no valid signed checkpoint anchors the rest' : ' and no retention run accounts for them'}` });
        // Go on from what the first row says it follows, to find any later, independent break.
        this.folder = new ChainFolder(storedPrev);
      }
      this.expected = seq;
    }
    this.passCheckpointsBefore(this.expected);
  }

  /** Checkpoints before the first row checked (retained-away or before a partial start) are not compared. */
  private passCheckpointsBefore(seq: number): void {
    while (this.cursor < this.due.length && this.due[this.cursor]!.seq < seq) this.cursor++;
  }

  private fail(b: ChainBreak): void {
    if (this.breaks.length < MAX_BREAKS * 2) this.breaks.push(b);
  }
}
