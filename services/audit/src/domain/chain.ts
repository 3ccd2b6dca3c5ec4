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
 * The verifier's hot loop: folds entries into the chain with one reused buffer. `leafInPlace` hashes canonical
 * bytes that sit in a buffer the caller owns and whose preceding byte it may overwrite (e.g. the last byte of a
 * COPY length field), which saves a copy per entry.
 */
export class ChainFolder {
  private readonly link = Buffer.allocUnsafe(1 + 2 * HASH_BYTES);
  head: Buffer;

  constructor(start: Uint8Array = GENESIS_HASH) {
    this.head = Buffer.from(start);
    this.link[0] = LINK;
  }

  /** Appends the entry whose canonical bytes are buf[start, end), overwriting buf[start - 1]. Returns the new head. */
  leafInPlace(buf: Buffer, start: number, end: number): Buffer {
    buf[start - 1] = LEAF;
    return this.digest(sha256(buf.subarray(start - 1, end)));
  }

  leaf(canonical: Uint8Array): Buffer {
    return this.digest(entryDigest(canonical));
  }

  /** Appends an entry known by its digest only (evidence-pack proofs). */
  digest(d: Uint8Array): Buffer {
    this.head.copy(this.link, 1);
    this.link.set(d, 1 + HASH_BYTES);
    this.head = sha256(this.link);
    return this.head;
  }
}
