import { hash } from 'node:crypto';

/**
 * The hash chain of the audit log (format sonet.audit.chain/1). Two hashes per entry, with distinct leading
 * bytes so a leaf can never be mistaken for a link (the RFC 6962 / trillian habit):
 *
 *   digest(entry)  = SHA-256(0x00 ‖ canonical bytes of the entry)
 *   hash(entry n)  = SHA-256(0x01 ‖ hash(entry n-1) ‖ digest(entry n)),   hash(entry 0) = 32 zero bytes
 *
 * Chaining digests rather than the bytes themselves lets an evidence pack prove a referral's entries up to a
 * signed checkpoint with the digests of the entries in between, never their content (other patients' data).
 */
export const HASH_BYTES = 32;
export const GENESIS_HASH: Buffer = Buffer.alloc(HASH_BYTES);
const LEAF = 0x00;
const LINK = 0x01;

export const sha256 = (data: Uint8Array): Buffer => hash('sha256', data, 'buffer');

/** digest(entry) of canonical bytes. */
export function entryDigest(canonical: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(canonical.length + 1);
  buf[0] = LEAF;
  buf.set(canonical, 1);
  return sha256(buf);
}

/** hash(entry n) from hash(entry n-1) and digest(entry n). */
export function chainHash(prev: Uint8Array, digest: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(1 + 2 * HASH_BYTES);
  buf[0] = LINK;
  buf.set(prev, 1);
  buf.set(digest, 1 + HASH_BYTES);
  return sha256(buf);
}

/**
 * The verifier's hot loop: folds entries into the chain. The head is kept as a 32-character latin1 string (one
 * character per byte) because `crypto.hash` returns a string several times faster than a Buffer (it skips an
 * ArrayBuffer allocation per call, which costs more than hashing a short link); the link is assembled in one reused
 * buffer. `leafInPlace` hashes canonical bytes that sit in a buffer the caller owns and whose preceding byte it may
 * overwrite (e.g. the last byte of a COPY length field), which saves a copy per entry.
 */
export class ChainFolder {
  private readonly link = Buffer.allocUnsafe(1 + 2 * HASH_BYTES);
  private bin: string;

  constructor(start: Uint8Array = GENESIS_HASH) {
    if (start.length !== HASH_BYTES) throw new RangeError(`a chain hash has ${HASH_BYTES} bytes, not ${start.length}`);
    this.bin = Buffer.from(start.buffer, start.byteOffset, HASH_BYTES).toString('latin1');
    this.link[0] = LINK;
  }

  /** hash(last entry folded), as bytes. */
  get head(): Buffer {
    return Buffer.from(this.bin, 'latin1');
  }

  get headHex(): string {
    return this.head.toString('hex');
  }

  /** Goes on from a hash the caller trusts more than its own (e.g. the stored one, after a reported break). */
  resetTo(buf: Uint8Array, offset = 0): void {
    this.bin = Buffer.from(buf.buffer, buf.byteOffset + offset, HASH_BYTES).toString('latin1');
  }

  /** Whether the current head equals the 32 bytes at buf[offset]. */
  headEquals(buf: Uint8Array, offset: number): boolean {
    const h = this.bin;
    for (let i = 0; i < HASH_BYTES; i++) if (buf[offset + i] !== h.charCodeAt(i)) return false;
    return true;
  }

  /** Appends the entry whose canonical bytes are buf[start, end), overwriting buf[start - 1]. */
  leafInPlace(buf: Buffer, start: number, end: number): void {
    buf[start - 1] = LEAF;
    this.fold(hash('sha256', buf.subarray(start - 1, end), 'binary'));
  }

  /** Appends an entry by its canonical bytes; returns the new head. */
  leaf(canonical: Uint8Array): Buffer {
    return this.digest(entryDigest(canonical));
  }

  /** Appends an entry known by its digest only (evidence-pack proofs); returns the new head. */
  digest(d: Uint8Array): Buffer {
    this.fold(Buffer.from(d.buffer, d.byteOffset, HASH_BYTES).toString('latin1'));
    return this.head;
  }

  private fold(digest: string): void {
    this.link.write(this.bin, 1, HASH_BYTES, 'latin1');
    this.link.write(digest, 1 + HASH_BYTES, HASH_BYTES, 'latin1');
    this.bin = hash('sha256', this.link, 'binary');
  }
}
