import type { Client } from 'pg';
import type { Checkpoint, CheckpointKind } from './checkpoint';

// Checkpoint rows as stored, read with a plain pg Client (the verifier's worker loads no ORM).

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

// seq as text (a bigint does not fit a JS number): ORDER BY names audit_checkpoint.seq, or it sorts the text.
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

export interface StoredCheckpoint {
  checkpoint: Checkpoint;
  entryRecordedAt: Date;
}

export const checkpointQuery = (where = '') =>
  `select ${CHECKPOINT_COLUMNS} from audit_checkpoint where chain = $1 ${where} order by audit_checkpoint.seq`;

export const toStoredCheckpoint = (r: CheckpointRow): StoredCheckpoint => ({
  checkpoint: toCheckpoint(r),
  entryRecordedAt: new Date(r.entry_recorded_at),
});

export async function checkpointsOfClient(client: Client, chain: string, where = '', params: unknown[] = []): Promise<StoredCheckpoint[]> {
  return (await client.query<CheckpointRow>(checkpointQuery(where), [chain, ...params])).rows.map(toStoredCheckpoint);
}
