import { randomUUID } from 'node:crypto';
import { chainHash, entryDigest, GENESIS_HASH } from '../src/domain/chain';
import { buildEntry, type AuditEntryDraft } from '../src/domain/entry-document';
import { PatientKeyer } from '../src/domain/patient-identifiers';

/** Helpers for unit tests: chains built in memory exactly as AuditLog builds them in the database. */
export interface MemoryRow {
  seq: number;
  canonical: string;
  prevHash: Buffer;
  hash: Buffer;
}

export const testKeyer = new PatientKeyer('unit-test-patient-key-0123456789abcdef');

export const draftOf = (subject: string, data: unknown, type = 'records.transfer-queued.v1'): AuditEntryDraft => ({
  eventId: randomUUID(),
  eventType: type,
  source: '/sonet/test',
  subject,
  eventTime: '2026-11-25T09:00:00.000Z',
  topic: 'records.events.v1',
  partition: 0,
  kafkaOffset: '1',
  headers: { ce_specversion: '1.0', 'content-type': 'application/json' },
  data,
  payload: Buffer.from(JSON.stringify(data)),
});

export function memoryChain(drafts: readonly AuditEntryDraft[], firstSeq = 1, prev: Buffer = GENESIS_HASH): MemoryRow[] {
  let p = prev;
  return drafts.map((d, i) => {
    const seq = firstSeq + i;
    const { canonical } = buildEntry(d, BigInt(seq), new Date('2026-11-25T10:00:00.000Z'), testKeyer);
    const hash = chainHash(p, entryDigest(Buffer.from(canonical, 'utf8')));
    const row = { seq, canonical, prevHash: p, hash };
    p = hash;
    return row;
  });
}

/** Feeds rows to something with ChainVerifier's push signature, laid out as a COPY row would be: prev_hash, hash, a spare byte, canonical. */
export function feed(
  verifier: { push(seq: number, buf: Buffer, prevStart: number, hashStart: number, start: number, end: number): void },
  rows: readonly MemoryRow[],
): void {
  for (const r of rows) {
    const buf = Buffer.concat([r.prevHash, r.hash, Buffer.alloc(1), Buffer.from(r.canonical, 'utf8')]);
    verifier.push(r.seq, buf, 0, 32, 65, buf.length);
  }
}
