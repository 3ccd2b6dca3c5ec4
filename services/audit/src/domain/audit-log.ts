import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { nativeQuery } from '@sonet/service-kit';
import { chainHash, entryDigest, GENESIS_HASH } from './chain';
import type { Checkpoint, CheckpointKind, CheckpointSigner } from './checkpoint';
import { CHECKPOINT_COLUMNS, toCheckpoint, type CheckpointRow } from './checkpoint-store';
import { buildEntry, type AuditEntryDraft } from './entry-document';
import type { PatientKeyer } from './patient-identifiers';

export type { AuditEntryDraft } from './entry-document';

/** Transaction-scoped advisory lock key ("AUDT") held by the one writer of the chain. */
export const AUDIT_APPEND_LOCK = 0x41_55_44_54;

export class AppendOutsideTransactionError extends Error {
  constructor() {
    super('AuditLog.append needs a transactional EntityManager: the append lock is held until commit');
    this.name = 'AppendOutsideTransactionError';
  }
}

export interface AuditLogSettings {
  /** The chain's name, part of every checkpoint signature. */
  readonly chain: string;
  /** Sign a checkpoint in the append transaction once this many entries follow the last one. */
  readonly checkpointEvery: number;
  readonly keyer: PatientKeyer;
  /** Absent in processes that only read (they never sign). */
  readonly signer?: CheckpointSigner;
  /** The recording time of a batch; default: the database's clock. Benchmarks give synthetic times. */
  readonly clock?: () => Date;
}
export const AUDIT_LOG_SETTINGS = Symbol('AuditLogSettings');

export interface AppendedEntry {
  readonly eventId: string;
  readonly seq: string;
}

export interface AppendBatchResult {
  readonly recorded: readonly AppendedEntry[];
  /** Event ids already in the log (or twice in the batch): nothing was added for them. */
  readonly duplicates: readonly string[];
  /** The checkpoint signed in this transaction, if the batch crossed the checkpoint interval. */
  readonly checkpoint: Checkpoint | null;
}

export type AppendResult = { readonly outcome: 'recorded'; readonly seq: string } | { readonly outcome: 'duplicate' };

interface HeadRow {
  seq: string | null;
  hash: Buffer | null;
  recorded_at: Date | string | null;
  now: Date | string;
  last_checkpoint: string | null;
}

/** The last entry of the chain, the database clock and the last checkpoint: read under the append lock only. */
const HEAD_SQL = `
  select h.seq::text as seq, h.hash, h.recorded_at, clock_timestamp() as now,
         (select max(c.seq)::text from audit_checkpoint c where c.chain = $1) as last_checkpoint
  from (select 1) one
  left join lateral (select seq, hash, recorded_at from audit_entry order by recorded_at desc, seq desc limit 1) h on true`;

const monthOf = (d: Date): string => d.toISOString().slice(0, 7);

/**
 * The only write path into the log. Each append takes the chain's advisory lock for the rest of its transaction,
 * then reads the head (last seq, its hash, its time) and writes the entries that follow it: exactly one writer
 * extends the chain at a time, whatever the number of consumers or replicas, and entries commit in seq order.
 * Event ids are unique through audit_event_id (the partitioned table cannot hold a unique index on them alone),
 * checked under the same lock.
 */
@Injectable()
export class AuditLog {
  private readonly months = new Set<string>();

  constructor(@Inject(AUDIT_LOG_SETTINGS) private readonly settings: AuditLogSettings) {}

  get chain(): string {
    return this.settings.chain;
  }

  async append(em: EntityManager, draft: AuditEntryDraft): Promise<AppendResult> {
    const r = await this.appendBatch(em, [draft]);
    const [one] = r.recorded;
    return one ? { outcome: 'recorded', seq: one.seq } : { outcome: 'duplicate' };
  }

  async appendBatch(em: EntityManager, drafts: readonly AuditEntryDraft[]): Promise<AppendBatchResult> {
    if (!em.isInTransaction()) throw new AppendOutsideTransactionError();
    await nativeQuery(em, 'select pg_advisory_xact_lock($1)', [AUDIT_APPEND_LOCK]);
    const { fresh, duplicates } = await this.freshDrafts(em, drafts);
    if (fresh.length === 0) return { recorded: [], duplicates, checkpoint: null };

    const [head] = await nativeQuery<HeadRow>(em, HEAD_SQL, [this.settings.chain]);
    const lastAt = head?.recorded_at ? new Date(head.recorded_at).getTime() : 0;
    const clock = this.settings.clock ? this.settings.clock() : new Date(head!.now);
    // Never earlier than the entry before it: partitions (by recording month) then hold seq ranges, and a
    // retention run that drops the oldest ones removes a prefix of the chain, never entries in the middle.
    const recordedAt = new Date(Math.max(clock.getTime(), lastAt));
    await this.ensurePartition(em, recordedAt);

    const chained = this.chainRows(fresh, BigInt(head?.seq ?? '0'), head?.hash ? Buffer.from(head.hash) : GENESIS_HASH, recordedAt);
    await insertRows(em, chained.rows, recordedAt);
    let checkpoint: Checkpoint | null = null;
    const lastCheckpoint = BigInt(head?.last_checkpoint ?? '0');
    if (this.settings.signer && chained.seq - lastCheckpoint >= BigInt(this.settings.checkpointEvery)) {
      checkpoint = await this.insertCheckpoint(em, chained.seq, chained.prev, recordedAt, 'periodic');
    }
    return { recorded: chained.recorded, duplicates, checkpoint };
  }

  /** The drafts not seen before (in this batch or in the log), and the ids of those that were. */
  private async freshDrafts(em: EntityManager, drafts: readonly AuditEntryDraft[]) {
    const seen = new Set<string>();
    const duplicates: string[] = [];
    const unique = drafts.filter((d) => (seen.has(d.eventId) ? (duplicates.push(d.eventId), false) : (seen.add(d.eventId), true)));
    const known = unique.length
      ? await nativeQuery<{ event_id: string }>(em, 'select event_id from audit_event_id where event_id = any($1::uuid[])', [
          unique.map((d) => d.eventId),
        ])
      : [];
    const knownIds = new Set(known.map((r) => r.event_id));
    const fresh = unique.filter((d) => (knownIds.has(d.eventId) ? (duplicates.push(d.eventId), false) : true));
    return { fresh, duplicates };
  }

  /** Each draft as its row, chained after `seq`/`prev`: the columns to insert, and the new head. */
  private chainRows(fresh: readonly AuditEntryDraft[], seq: bigint, prev: Buffer, recordedAt: Date) {
    const rows: EntryColumns = {
      seq: [],
      eventId: [],
      type: [],
      subject: [],
      time: [],
      actor: [],
      orgs: [],
      patient: [],
      canonical: [],
      prev: [],
      hash: [],
    };
    const recorded: AppendedEntry[] = [];
    for (const draft of fresh) {
      seq += 1n;
      const { document, canonical } = buildEntry(draft, seq, recordedAt, this.settings.keyer);
      const hash = chainHash(prev, entryDigest(Buffer.from(canonical, 'utf8')));
      rows.seq.push(document.seq);
      rows.eventId.push(draft.eventId);
      rows.type.push(draft.eventType);
      rows.subject.push(draft.subject);
      rows.time.push(draft.eventTime);
      rows.actor.push(document.index.actor);
      // A text[] per row travels as its literal: unnest cannot take an array of arrays of different lengths.
      rows.orgs.push(`{${document.index.organisations.join(',')}}`);
      rows.patient.push(document.index.patientKey);
      rows.canonical.push(canonical);
      rows.prev.push(prev);
      rows.hash.push(hash);
      recorded.push({ eventId: draft.eventId, seq: document.seq });
      prev = hash;
    }
    return { rows, recorded, seq, prev };
  }

  /**
   * Signs the current head if no checkpoint covers it yet (time-based checkpoints, and before an export).
   * Takes the append lock, so the head cannot move meanwhile. Returns the newest checkpoint either way.
   */
  async checkpointHead(em: EntityManager, kind: CheckpointKind): Promise<Checkpoint | null> {
    if (!em.isInTransaction()) throw new AppendOutsideTransactionError();
    if (!this.settings.signer) return null;
    await nativeQuery(em, 'select pg_advisory_xact_lock($1)', [AUDIT_APPEND_LOCK]);
    const [head] = await nativeQuery<HeadRow>(em, HEAD_SQL, [this.settings.chain]);
    if (!head?.seq || !head.hash || !head.recorded_at) return null;
    if (head.last_checkpoint !== null && BigInt(head.last_checkpoint) >= BigInt(head.seq)) return null;
    return this.insertCheckpoint(em, BigInt(head.seq), Buffer.from(head.hash), new Date(head.recorded_at), kind);
  }

  /** Signs and stores a checkpoint of an entry (the caller holds the lock and knows the entry's hash). */
  async insertCheckpoint(em: EntityManager, seq: bigint, head: Buffer, entryRecordedAt: Date, kind: CheckpointKind): Promise<Checkpoint> {
    const signer = this.settings.signer;
    if (!signer) throw new Error('this process has no checkpoint signing key');
    const cp = signer.sign(this.settings.chain, seq.toString(), head, kind);
    const inserted = await nativeQuery(
      em,
      `insert into audit_checkpoint (chain, seq, head, signed_at, key_id, signature, kind, entry_recorded_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (chain, seq) do nothing returning seq`,
      [cp.chain, cp.seq, head, cp.signedAt, cp.keyId, Buffer.from(cp.signature, 'base64'), cp.kind, entryRecordedAt],
    );
    if (inserted.length > 0) return cp;
    // One checkpoint per position: the one already there (e.g. a periodic one at a retention cut) serves.
    const [existing] = await nativeQuery<CheckpointRow>(
      em,
      `select ${CHECKPOINT_COLUMNS} from audit_checkpoint where chain = $1 and seq = $2`,
      [cp.chain, cp.seq],
    );
    return toCheckpoint(existing!);
  }

  /** The month partition for an instant; created (once per month and process) through a definer function. */
  private async ensurePartition(em: EntityManager, at: Date): Promise<void> {
    const month = monthOf(at);
    if (this.months.has(month)) return;
    await nativeQuery(em, 'select audit_ensure_partition($1::timestamptz)', [at]);
    this.months.add(month);
  }
}

/** The rows of one appended batch, column by column (unnest inserts them in one statement each). */
interface EntryColumns {
  seq: string[];
  eventId: string[];
  type: string[];
  subject: string[];
  time: string[];
  actor: (string | null)[];
  orgs: string[];
  patient: (string | null)[];
  canonical: string[];
  prev: Buffer[];
  hash: Buffer[];
}

/** The event ids (for idempotence) and the entries, each in one statement. */
async function insertRows(em: EntityManager, cols: EntryColumns, recordedAt: Date): Promise<void> {
  await nativeQuery(
    em,
    `insert into audit_event_id (event_id, seq, recorded_at)
     select e, s, $3::timestamptz from unnest($1::uuid[], $2::bigint[]) as t(e, s)`,
    [cols.eventId, cols.seq, recordedAt],
  );
  await nativeQuery(
    em,
    `insert into audit_entry (seq, recorded_at, event_id, event_type, subject, event_time, actor, organisations, patient_key, canonical, prev_hash, hash)
     select s, $2::timestamptz, e, t, sub, audit_instant(tm), a, o::text[], p, c, ph, h
     from unnest($1::bigint[], $3::uuid[], $4::text[], $5::uuid[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bytea[], $12::bytea[])
       as r(s, e, t, sub, tm, a, o, p, c, ph, h)`,
    [
      cols.seq,
      recordedAt,
      cols.eventId,
      cols.type,
      cols.subject,
      cols.time,
      cols.actor,
      cols.orgs,
      cols.patient,
      cols.canonical,
      cols.prev,
      cols.hash,
    ],
  );
}
