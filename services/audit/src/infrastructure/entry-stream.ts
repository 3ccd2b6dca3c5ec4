import type { Client } from 'pg';
import { copyOut, CopyFormatError, int32 } from './copy-out';

/**
 * Streams (seq, prev_hash, hash, canonical) of the log in seq order with COPY ... TO STDOUT (FORMAT binary): the
 * canonical bytes arrive as they are stored, with no text decoding, and are hashed where they lie in the buffer.
 * `onRow` gets the row's fields as offsets into `buf`, valid only during the call; the byte before `start` may be
 * overwritten (it is the last byte of the field's length).
 */
export type RowSink = (seq: number, buf: Buffer, prevStart: number, hashStart: number, start: number, end: number) => void;

export { CopyFormatError };

/** `where` is SQL over audit_entry built from validated numbers only (COPY takes no bind parameters). */
export function streamEntries(client: Client, where: string, onRow: RowSink): Promise<number> {
  const sql = `copy (select seq, prev_hash, hash, canonical from audit_entry ${where} order by recorded_at, seq) to stdout (format binary)`;
  return copyOut(client, sql, (buf, pos) => {
    // 4 fields: seq int8 (length 8), prev_hash and hash bytea (length 32 each), canonical text; none is null.
    if (buf[pos] !== 0 || buf[pos + 1] !== 4 || int32(buf, pos + 2) !== 8 || int32(buf, pos + 14) !== 32 || int32(buf, pos + 50) !== 32) {
      throw new CopyFormatError('unexpected row layout: expected seq int8, prev_hash and hash of 32 bytes, canonical');
    }
    const seq = int32(buf, pos + 6) * 2 ** 32 + (int32(buf, pos + 10) >>> 0);
    const start = pos + 90;
    onRow(seq, buf, pos + 18, pos + 54, start, start + int32(buf, pos + 86));
  });
}
