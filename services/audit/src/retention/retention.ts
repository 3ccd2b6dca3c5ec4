import { randomUUID } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Client } from 'pg';
import { nativeQuery } from '@sonet/service-kit';
import type { AuditLog } from '../domain/audit-log';
import { canonicalJson } from '../domain/canonical';
import type { Checkpoint, CheckpointKeyring } from '../domain/checkpoint';
import { NO_REFERRAL } from '../domain/entry-document';
import { RETENTION_EVENT_TYPE, type RetentionAppliedData } from '../domain/retention-entry';
import { verifyDatabase } from '../verify-log/verify-log';

export interface RetentionOptions {
  readonly months: number;
  readonly now?: Date;
  readonly dryRun?: boolean;
  readonly keyring: CheckpointKeyring;
  readonly external?: readonly Checkpoint[];
}

export interface RetentionReport {
  readonly cutoff: string;
  readonly partitions: readonly string[];
  readonly entries: string;
  readonly toSeq: string | null;
  readonly applied: boolean;
  readonly checkpoint: Checkpoint | null;
  readonly reason?: string;
}

/** The first instant kept: the start of the month `months` whole months before `now`'s month (UTC). */
export const retentionCutoff = (now: Date, months: number): Date => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - months, 1));

/**
 * Drops the month partitions recorded wholly before the cutoff, as an audited act: first the whole chain is
 * verified (a broken chain is evidence, never dropped); then, in one transaction under the append lock, a
 * `audit.retention-applied.v1` entry joins the chain saying what goes, a retention-anchor checkpoint is signed
 * at the last entry dropped (verification of what remains starts there), and the partitions are dropped.
 * Runs as the schema's owner (the service's role cannot drop anything).
 */
export async function applyRetention(
  orm: MikroORM,
  client: Client,
  auditLog: AuditLog,
  options: RetentionOptions,
): Promise<RetentionReport> {
  const cutoff = retentionCutoff(options.now ?? new Date(), options.months);
  const em = orm.em.fork();
  const old = await partitionsBefore(em, cutoff);
  const [range] = await nativeQuery<SeqRange>(
    em,
    `select min(seq)::text as from_seq, max(seq)::text as to_seq, count(*)::text as n from audit_entry where recorded_at < $1::timestamptz`,
    [cutoff],
  );
  const base = { cutoff: cutoff.toISOString(), partitions: old, entries: range?.n ?? '0', toSeq: range?.to_seq ?? null };
  if (old.length === 0) return { ...base, applied: false, checkpoint: null, reason: 'no partition is past the retention period' };
  if (options.dryRun) return { ...base, applied: false, checkpoint: null, reason: 'dry run' };

  const report = await verifyDatabase(client, {
    chain: auditLog.chain,
    keyring: options.keyring,
    ...(options.external ? { external: options.external } : {}),
  });
  if (!report.ok) {
    return {
      ...base,
      applied: false,
      checkpoint: null,
      reason: `the chain does not verify (first break at seq ${report.firstBreak?.seq}): nothing dropped`,
    };
  }
  const checkpoint = await em.transactional(async (tem) => {
    const anchor = range?.to_seq ? await anchorRetention(tem, auditLog, { cutoff, old, range, months: options.months }) : null;
    for (const p of old) await tem.execute(`drop table "${p}"`);
    return anchor;
  });
  return { ...base, applied: true, checkpoint };
}

type SeqRange = { from_seq: string | null; to_seq: string | null; n: string };

/** The monthly partitions whose whole month lies before the cutoff, oldest first. */
async function partitionsBefore(em: EntityManager, cutoff: Date): Promise<string[]> {
  const parts = await nativeQuery<{ name: string }>(
    em,
    `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
     where i.inhparent = 'audit_entry'::regclass order by c.relname`,
  );
  return parts
    .map((p) => p.name)
    .filter((n) => {
      const m = /^audit_entry_p(\d{4})_(\d{2})$/.exec(n);
      return m !== null && Date.UTC(Number(m[1]), Number(m[2]), 1) <= cutoff.getTime();
    });
}

/**
 * Before the oldest entries go: a retention event in the chain saying what goes, and a checkpoint signing the head of
 * what goes, so the chain that remains starts from a signed anchor.
 */
async function anchorRetention(
  tem: EntityManager,
  auditLog: AuditLog,
  run: { cutoff: Date; old: string[]; range: SeqRange; months: number },
): Promise<Checkpoint> {
  const { cutoff, old, range } = run;
  const toSeq = range.to_seq!;
  const [last] = await nativeQuery<{ hash: Buffer; recorded_at: Date }>(
    tem,
    `select hash, recorded_at from audit_entry where recorded_at < $1::timestamptz and seq = $2::bigint`,
    [cutoff, toSeq],
  );
  const data: RetentionAppliedData = {
    retentionMonths: run.months,
    cutoff: cutoff.toISOString(),
    partitions: old,
    fromSeq: range.from_seq ?? toSeq,
    toSeq,
    entries: range.n,
    anchorHead: Buffer.from(last!.hash).toString('hex'),
    runBy: (await nativeQuery<{ u: string }>(tem, 'select current_user as u'))[0]!.u,
  };
  await auditLog.appendBatch(tem, [
    {
      eventId: randomUUID(),
      eventType: RETENTION_EVENT_TYPE,
      source: '/sonet/audit',
      subject: NO_REFERRAL,
      eventTime: new Date().toISOString(),
      topic: 'audit.internal',
      partition: 0,
      kafkaOffset: '0',
      headers: {},
      data,
      payload: Buffer.from(canonicalJson(data), 'utf8'),
    },
  ]);
  return auditLog.insertCheckpoint(tem, BigInt(toSeq), Buffer.from(last!.hash), new Date(last!.recorded_at), 'retention-anchor');
}
