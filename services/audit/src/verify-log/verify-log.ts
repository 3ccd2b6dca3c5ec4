import { Client, type ClientConfig } from 'pg';
import { ChainVerifier, type VerifyReport } from '../domain/chain-verifier';
import type { Checkpoint, CheckpointKeyring } from '../domain/checkpoint';
import { checkpointsOfClient } from '../domain/checkpoint-rows';
import { parseEntry } from '../domain/entry-document';
import { RETENTION_EVENT_TYPE } from '../domain/retention-entry';
import { streamEntries } from '../infrastructure/entry-stream';
import { AUDIT_WRITER_ROLE, MATCHES_CANONICAL_BODY } from '../domain/schema-guards';

/** Something about the database that would let entries or their query columns change unseen. */
export interface SchemaFinding {
  readonly what: string;
  readonly detail: string;
}

export interface DatabaseVerifyReport extends VerifyReport {
  readonly schema: readonly SchemaFinding[];
  readonly externalCheckpoints: number;
}

export interface VerifyOptions {
  readonly chain: string;
  readonly keyring: CheckpointKeyring;
  /** Checkpoints from outside the database (the checkpoint log), to catch a rewritten checkpoint table. */
  readonly external?: readonly Checkpoint[];
  /** Verify from this seq on, starting at the last signed checkpoint before it (default: everything). */
  readonly fromSeq?: bigint;
}

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

/** The guards the chain relies on to keep query columns honest and rows append-only, as installed. */
export async function schemaFindings(client: Client): Promise<SchemaFinding[]> {
  const findings: SchemaFinding[] = [];
  const triggers = await client.query<{ rel: string; tgname: string; tgenabled: string }>(
    `select c.relname as rel, t.tgname, t.tgenabled from pg_trigger t join pg_class c on c.oid = t.tgrelid
     where not t.tgisinternal and (c.relname in ('audit_entry', 'audit_event_id', 'audit_checkpoint') or c.relname like 'audit\\_entry\\_p%')`,
  );
  for (const t of triggers.rows) {
    if (t.tgenabled === 'D' || t.tgenabled === 'R')
      findings.push({ what: 'trigger-disabled', detail: `trigger ${t.tgname} on ${t.rel} is disabled` });
  }
  for (const rel of ['audit_entry', 'audit_event_id', 'audit_checkpoint']) {
    const n = triggers.rows.filter((t) => t.rel === rel).length;
    if (n < 2) findings.push({ what: 'trigger-missing', detail: `${rel} lacks its UPDATE/DELETE/TRUNCATE guards` });
  }
  const constraints = await client.query<{ rel: string; convalidated: boolean }>(
    `select c.relname as rel, k.convalidated from pg_class c
     left join pg_constraint k on k.conrelid = c.oid and k.conname = 'audit_entry_matches_canonical'
     where c.relname = 'audit_entry' or (c.relname like 'audit\\_entry\\_p%' and c.relkind = 'r')`,
  );
  for (const c of constraints.rows) {
    if (c.convalidated !== true)
      findings.push({
        what: 'check-missing',
        detail: `${c.rel} does not hold its columns to the canonical text (constraint missing or not validated)`,
      });
  }
  const fn = await client.query<{ prosrc: string }>(`select prosrc from pg_proc where proname = 'audit_entry_matches_canonical'`);
  if (fn.rows.length !== 1 || squash(fn.rows[0]!.prosrc) !== squash(MATCHES_CANONICAL_BODY)) {
    findings.push({ what: 'check-replaced', detail: 'audit_entry_matches_canonical is not the function the migration installed' });
  }
  const privileges = await client.query<{ rel: string; bad: boolean }>(
    `select r as rel, (has_table_privilege($1, r, 'UPDATE') or has_table_privilege($1, r, 'DELETE') or has_table_privilege($1, r, 'TRUNCATE')) as bad
     from unnest(array['audit_entry', 'audit_event_id', 'audit_checkpoint']) r
     where exists (select from pg_roles where rolname = $1)`,
    [AUDIT_WRITER_ROLE],
  );
  for (const p of privileges.rows)
    if (p.bad) findings.push({ what: 'writer-privileges', detail: `${AUDIT_WRITER_ROLE} may change or remove rows of ${p.rel}` });
  return findings;
}

/** The last retention run's statement (itself an entry of the chain, so verified with it). */
async function lastRetention(client: Client): Promise<{ toSeq: string } | null> {
  const r = await client.query<{ canonical: string }>(`select canonical from audit_entry where event_type = $1 order by seq desc limit 1`, [
    RETENTION_EVENT_TYPE,
  ]);
  const row = r.rows[0];
  if (!row) return null;
  const data = parseEntry(row.canonical).event.data as { toSeq?: unknown };
  return typeof data.toSeq === 'string' ? { toSeq: data.toSeq } : null;
}

/**
 * Recomputes the chain stored in the database and checks it against its signed checkpoints (and those kept
 * outside it): reports the first sequence number that breaks. Reads with one COPY stream; needs SELECT only.
 */
export async function verifyDatabase(client: Client, options: VerifyOptions): Promise<DatabaseVerifyReport> {
  const started = Date.now();
  // One long ordered scan: JIT-compiling its expressions costs PostgreSQL more than it saves (measured ~8% slower).
  await client.query('set jit = off');
  const stored = await checkpointsOfClient(client, options.chain);
  let where = '';
  let startAfter: Checkpoint | undefined;
  if (options.fromSeq !== undefined && options.fromSeq > 1n) {
    const before = stored.filter((c) => BigInt(c.checkpoint.seq) < options.fromSeq!).pop();
    if (before) {
      startAfter = before.checkpoint;
      // Numbers and an ISO instant we produced: safe to inline (COPY takes no bind parameters).
      where = `where recorded_at >= '${before.entryRecordedAt.toISOString()}'::timestamptz and seq > ${BigInt(before.checkpoint.seq).toString()}`;
    }
  }
  const verifier = new ChainVerifier({
    chain: options.chain,
    keyring: options.keyring,
    checkpoints: stored.map((c) => c.checkpoint),
    ...(options.external ? { externalCheckpoints: options.external } : {}),
    ...(startAfter ? { startAfter } : {}),
    retention: startAfter ? null : await lastRetention(client),
  });
  // One snapshot for the checkpoints and the entries would be ideal; entries appended meanwhile only extend the chain.
  await streamEntries(client, where, (seq, buf, prevStart, hashStart, start, end) =>
    verifier.push(seq, buf, prevStart, hashStart, start, end),
  );
  const report = verifier.finish();
  return {
    ...report,
    schema: await schemaFindings(client),
    externalCheckpoints: options.external?.length ?? 0,
    durationMs: Date.now() - started,
  };
}

/** verifyDatabase on a connection of its own, opened and closed here (the worker and the in-thread path). */
export async function verifyWithConnection(connection: ClientConfig, options: VerifyOptions): Promise<DatabaseVerifyReport> {
  const client = new Client(connection);
  await client.connect();
  try {
    return await verifyDatabase(client, options);
  } finally {
    await client.end();
  }
}
