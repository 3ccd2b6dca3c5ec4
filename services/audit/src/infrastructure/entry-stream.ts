import type { Client } from 'pg';
import { to as copyTo } from 'pg-copy-streams';

/**
 * Streams (seq, prev_hash, hash, canonical) of the log in seq order with COPY ... TO STDOUT (FORMAT binary): the
 * canonical bytes arrive as they are stored, with no text decoding, and are hashed where they lie in the buffer.
 * `onRow` gets the row's fields as offsets into `buf`, valid only during the call; the byte before `start` may be
 * overwritten (it is the last byte of the field's length).
 */
export type RowSink = (seq: number, buf: Buffer, prevStart: number, hashStart: number, start: number, end: number) => void;

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

export class CopyFormatError extends Error {}

/** `where` is SQL over audit_entry built from validated numbers only (COPY takes no bind parameters). */
export async function streamEntries(client: Client, where: string, onRow: RowSink): Promise<number> {
  const sql = `copy (select seq, prev_hash, hash, canonical from audit_entry ${where} order by recorded_at, seq) to stdout (format binary)`;
  const stream = client.query(copyTo(sql));
  let pending: Buffer | null = null;
  let headerDone = false;
  let rows = 0;
  // Synchronous 'data' handling: PostgreSQL sends about one CopyData message per row, and a promise per chunk
  // (for await) would cost more than hashing the row.
  const onChunk = (chunk: Buffer): void => {
    const buf: Buffer = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = null;
    let pos = 0;
    if (!headerDone) {
      if (buf.length < 19) {
        pending = buf;
        return;
      }
      if (!buf.subarray(0, 11).equals(SIGNATURE)) throw new CopyFormatError('not a binary COPY stream');
      pos = 19 + buf.readUInt32BE(15);
      headerDone = true;
    }
    for (;;) {
      if (buf.length - pos < 2) break;
      const fields = buf.readInt16BE(pos);
      if (fields === -1) {
        pos += 2;
        break;
      }
      if (fields !== 4) throw new CopyFormatError(`expected 4 fields, got ${fields}`);
      // seq: int8 (length 8 + 8 bytes); prev_hash, hash: bytea; canonical: text. None is null (NOT NULL columns).
      let p = pos + 2;
      if (buf.length - p < 12) break;
      const seq = buf.readUInt32BE(p + 4) * 2 ** 32 + buf.readUInt32BE(p + 8);
      p += 12;
      if (buf.length - p < 4) break;
      const prevStart = p + 4;
      p = prevStart + buf.readInt32BE(p);
      if (buf.length - p < 4) break;
      const hashStart = p + 4;
      p = hashStart + buf.readInt32BE(p);
      if (buf.length - p < 4) break;
      const start = p + 4;
      const end = start + buf.readInt32BE(p);
      if (buf.length < end) break;
      onRow(seq, buf, prevStart, hashStart, start, end);
      rows++;
      pos = end;
    }
    if (pos < buf.length) pending = buf.subarray(pos);
  };
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      try {
        onChunk(chunk);
      } catch (e) {
        stream.destroy(e as Error);
      }
    });
    stream.on('end', () => resolve());
    stream.on('error', reject);
  });
  return rows;
}
