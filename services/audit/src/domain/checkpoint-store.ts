import type { EntityManager } from '@mikro-orm/postgresql';
import type { Client } from 'pg';
import { nativeQuery } from '@sonet/service-kit';
import type { Checkpoint, CheckpointKind } from './checkpoint';

export interface CheckpointRow {
  chain: string;
  seq: string;
  head: string;
  signed_at: Date | string;
  key_id: string;
  signature: string;
  kind: CheckpointKind;
  entry_recorded_at: Date | string;
}

export const CHECKPOINT_COLUMNS = `chain, seq::text as seq, encode(head, 'hex') as head, signed_at, key_id, encode(signature, 'base64') as signature, kind, entry_recorded_at`;

export const toCheckpoint = (r: CheckpointRow): Checkpoint => ({
  chain: r.chain,
  seq: r.seq,
  head: r.head,
  signedAt: new Date(r.signed_at).toISOString(),
  keyId: r.key_id,
  signature: r.signature.replace(/\s+/g, ''),
  kind: r.kind,
});

export async function checkpointsOf(db: EntityManager | Client, chain: string, where = '', params: unknown[] = []): Promise<{ checkpoint: Checkpoint; entryRecordedAt: Date }[]> {
  const sql = `select ${CHECKPOINT_COLUMNS} from audit_checkpoint where chain = $1 ${where} order by seq`;
  const rows = 'getConnection' in db ? await nativeQuery<CheckpointRow>(db, sql, [chain, ...params]) : (await db.query<CheckpointRow>(sql, [chain, ...params])).rows;
  return rows.map((r) => ({ checkpoint: toCheckpoint(r), entryRecordedAt: new Date(r.entry_recorded_at) }));
}
