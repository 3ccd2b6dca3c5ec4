import { ChainFolder, GENESIS_HASH, HASH_BYTES } from './chain';
import type { Checkpoint, CheckpointKeyring } from './checkpoint';

/** Where and why the chain stops being what was recorded. */
export interface ChainBreak {
  /** The first sequence number that does not verify (for a missing entry: the one that is missing). */
  readonly seq: string;
  readonly reason:
    | 'changed'
    | 'missing'
    | 'duplicate'
    | 'swapped'
    | 'moved'
    | 'reordered'
    | 'renumbered'
    | 'prefix-missing'
    | 'tail-missing'
    | 'checkpoint-mismatch'
    | 'checkpoint-signature'
    | 'checkpoint-unknown-key'
    | 'checkpoint-missing-in-database';
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
 * How many rows may arrive ahead of the one the chain expects before it is declared missing. Rows out of place are
 * held (copied) until the chain reaches them, so moves within this window are named as moves, not as gaps; a row that
 * turns up later than that still turns its `missing` into `moved`.
 */
const REORDER_WINDOW = 1024;
/** Runs of consecutive seqs kept per disorder episode, to name its shape; beyond that it is just `reordered`. */
const MAX_RUNS = 64;

/** A row held until the chain reaches it, laid out as feed() lays one out: prev_hash, hash, a spare byte, canonical. */
const heldRow = (buf: Buffer, prevStart: number, hashStart: number, start: number, end: number): Buffer =>
  Buffer.concat([
    buf.subarray(prevStart, prevStart + HASH_BYTES),
    buf.subarray(hashStart, hashStart + HASH_BYTES),
    Buffer.alloc(1),
    buf.subarray(start, end),
  ]);

/**
 * The shape of one episode of disorder, from the seqs in the order they arrived (as runs of consecutive seqs): two
 * entries that changed places, one moved back or forward, or a wider reordering. Null when nothing is out of order.
 */
export function disorderOf(runs: readonly (readonly [number, number])[]): (Omit<ChainBreak, 'seq'> & { seq: number }) | null {
  if (runs.every((r, i) => i === 0 || r[0] > (runs[i - 1]?.[1] ?? -Infinity))) return null;
  const lo = Math.min(...runs.map((r) => r[0]));
  const hi = Math.max(...runs.map((r) => r[1]));
  const one = (r: readonly [number, number] | undefined, seq: number) => r !== undefined && r[0] === seq && r[1] === seq;
  const span = (r: readonly [number, number] | undefined, from: number, to: number) => r !== undefined && r[0] === from && r[1] === to;
  const [a, b, c] = runs;
  if (
    (runs.length === 2 && hi === lo + 1 && one(a, hi) && one(b, lo)) ||
    (runs.length === 3 && one(a, hi) && span(b, lo + 1, hi - 1) && one(c, lo))
  ) {
    return { seq: lo, reason: 'swapped', detail: `entries ${lo} and ${hi} have swapped places` };
  }
  if (runs.length === 2 && span(a, lo + 1, hi) && one(b, lo))
    return { seq: lo, reason: 'moved', detail: `entry ${lo} was moved: it comes after entry ${hi}` };
  if (runs.length === 2 && one(a, hi) && span(b, lo, hi - 1))
    return { seq: hi, reason: 'moved', detail: `entry ${hi} was moved: it comes before entry ${lo}` };
  return { seq: lo, reason: 'reordered', detail: `entries ${lo} to ${hi} are out of order` };
}

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
  /** Rows that arrived ahead of `expected`, by seq, until the chain reaches them. */
  private readonly early = new Map<number, Buffer>();
  /** The seqs of the current disorder episode in arrival order, as runs of consecutive seqs. */
  private runs: [number, number][] = [];
  /** Seqs reported missing, by seq: one that turns up after all was moved, and its break says so. */
  private readonly declaredMissing = new Map<number, ChainBreak>();

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
        this.fail({
          seq: c.cp.seq,
          reason: sig === 'unknown-key' ? 'checkpoint-unknown-key' : 'checkpoint-signature',
          detail: `${c.source} checkpoint at seq ${c.cp.seq} is not signed by a trusted key (${sig})`,
        });
      }
      if (c.source === 'external' && !this.dbSeqs.has(c.cp.seq)) {
        this.fail({
          seq: c.cp.seq,
          reason: 'checkpoint-missing-in-database',
          detail: `the checkpoint log has a checkpoint at seq ${c.cp.seq} that the database no longer holds`,
        });
      }
    }
  }

  /**
   * One row, all of it in `buf`: its stored prev_hash at buf[prevStart], its stored hash at buf[hashStart] (32 bytes
   * each) and its canonical bytes as buf[start, end); buf[start - 1] may be overwritten.
   */
  push(seq: number, buf: Buffer, prevStart: number, hashStart: number, start: number, end: number): void {
    if (this.folder === undefined) this.begin(seq, buf.subarray(prevStart, prevStart + HASH_BYTES));
    if (seq === this.expected && this.early.size === 0) {
      this.append(seq, buf, prevStart, hashStart, start, end);
      return;
    }
    this.outOfSequence(seq, buf, prevStart, hashStart, start, end);
  }

  /** The slow path: a row that is not the next in the chain, or arrives while others wait for their turn. */
  private outOfSequence(seq: number, buf: Buffer, prevStart: number, hashStart: number, start: number, end: number): void {
    const folder = this.chainFolder();
    if (seq === this.expected) {
      this.note(seq);
      this.append(seq, buf, prevStart, hashStart, start, end);
      this.drain();
      return;
    }
    // A row that chains straight onto the last one under another number: nothing is missing or moved, its seq was changed.
    if (this.early.size === 0 && !this.declaredMissing.has(seq) && folder.headEquals(buf, prevStart)) {
      this.fail({
        seq: String(seq),
        reason: 'renumbered',
        detail:
          `the entry stored as ${seq} follows entry ${this.expected - 1} directly in the chain: ` +
          `its sequence number was changed (expected ${this.expected})`,
      });
      this.expected = seq;
      this.append(seq, buf, prevStart, hashStart, start, end);
      return;
    }
    if (seq < this.expected) {
      const missing = this.declaredMissing.get(seq);
      if (missing) {
        const moved: ChainBreak = {
          seq: String(seq),
          reason: 'moved',
          detail: `entry ${seq} was moved: it comes after entry ${this.last}, too far from its place to be checked in the chain`,
        };
        const at = this.breaks.indexOf(missing);
        // A gap of one entry that turned up is no gap at all; in a wider gap the others are still missing.
        if (at >= 0 && missing.seq === String(seq) && !this.declaredMissing.has(seq + 1)) this.breaks[at] = moved;
        else this.fail(moved);
        this.declaredMissing.delete(seq);
      } else {
        this.fail({ seq: String(seq), reason: 'duplicate', detail: `entry ${seq} appears again, after entry ${this.last}` });
      }
      return;
    }
    if (this.early.has(seq)) {
      this.fail({ seq: String(seq), reason: 'duplicate', detail: `entry ${seq} appears again, before the chain reached it` });
      return;
    }
    this.note(seq);
    this.early.set(seq, heldRow(buf, prevStart, hashStart, start, end));
    if (this.early.size > REORDER_WINDOW) this.giveUpWaiting();
  }

  /** The expected entry has not come within the window (or at the end): it is missing; go on with the earliest held row. */
  private giveUpWaiting(): void {
    const next = Math.min(...this.early.keys());
    const gap: ChainBreak = {
      seq: String(this.expected),
      reason: 'missing',
      detail: next - this.expected === 1 ? `entry ${this.expected} is missing` : `entries ${this.expected} to ${next - 1} are missing`,
    };
    this.fail(gap);
    // One break for the range; should one of its entries turn up after all, the break names the move instead.
    for (let seq = this.expected; seq < next && this.declaredMissing.size < REORDER_WINDOW; seq++) this.declaredMissing.set(seq, gap);
    // Go on from what the next row says it follows, to find any later, independent break.
    const row = this.early.get(next);
    if (row) this.chainFolder().resetTo(row, 0);
    this.passCheckpointsBefore(next);
    this.expected = next;
    this.drain();
  }

  /** Appends the held rows the chain has reached; at the end of an episode of disorder, names its shape. */
  private drain(): void {
    for (let row = this.early.get(this.expected); row !== undefined; row = this.early.get(this.expected)) {
      this.early.delete(this.expected);
      this.append(this.expected, row, 0, HASH_BYTES, 2 * HASH_BYTES + 1, row.length);
    }
    if (this.early.size > 0) return;
    const shape = disorderOf(this.runs);
    if (shape) this.fail({ ...shape, seq: String(shape.seq) });
    this.runs = [];
  }

  /** The folder begin() set up (every row goes through begin first). */
  private chainFolder(): ChainFolder {
    if (this.folder === undefined) throw new Error('a row was appended before the chain began');
    return this.folder;
  }

  /** Records a seq of the current episode, in arrival order. */
  private note(seq: number): void {
    const run = this.runs[this.runs.length - 1];
    if (run && run[1] === seq - 1) run[1] = seq;
    // Past MAX_RUNS the shape is no longer one move or swap: the last run absorbs the rest, which reads as reordered.
    else if (this.runs.length < MAX_RUNS) this.runs.push([seq, seq]);
    else if (run) run[1] = Math.max(run[1], seq);
  }

  /** The next row of the chain, in order: linked to the one before, hashing to its stored hash, held to checkpoints. */
  private append(seq: number, buf: Buffer, prevStart: number, hashStart: number, start: number, end: number): void {
    const folder = this.chainFolder();
    const prevMatches = folder.headEquals(buf, prevStart);
    folder.leafInPlace(buf, start, end);
    if (!prevMatches || !folder.headEquals(buf, hashStart)) {
      this.fail({
        seq: String(seq),
        reason: 'changed',
        detail: prevMatches
          ? `entry ${seq} does not hash to its stored hash: it was changed`
          : `entry ${seq} does not follow the entry before it`,
      });
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
        this.fail({
          seq: c.cp.seq,
          reason: 'checkpoint-mismatch',
          detail:
            `the chain at seq ${c.cp.seq} differs from the ${c.source} checkpoint signed ${c.cp.signedAt}: ` +
            'entries up to it were changed, removed or inserted',
        });
      }
    }
  }

  finish(): VerifyReport {
    while (this.early.size > 0) this.giveUpWaiting();
    if (this.folder === undefined && this.due.length > 0) {
      const c = this.due[0]!;
      this.fail({
        seq: String(this.options.startAfter ? Number(this.options.startAfter.seq) + 1 : 1),
        reason: 'tail-missing',
        detail: `the log is empty but a checkpoint covers seq ${c.cp.seq}`,
      });
    }
    for (; this.cursor < this.due.length; this.cursor++) {
      const c = this.due[this.cursor]!;
      if (this.options.startAfter && c.seq <= Number(this.options.startAfter.seq)) continue;
      if (this.last !== null && c.seq > this.last) {
        this.fail({
          seq: String(this.last + 1),
          reason: 'tail-missing',
          detail: `the log ends at seq ${this.last} but a ${c.source} checkpoint covers seq ${c.cp.seq}: entries after ${this.last} were removed`,
        });
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
        const unanchored = declared ? ' and no valid signed checkpoint anchors the rest' : ' and no retention run accounts for them';
        this.fail({
          seq: '1',
          reason: 'prefix-missing',
          detail: `the log starts at seq ${seq}: entries 1 to ${seq - 1} are missing${unanchored}`,
        });
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
