import { createHash, type Hash } from 'node:crypto';

/** The boundary of a `multipart/related` (or any multipart) media type, or null when it has none. */
export function boundaryOf(contentType: string | null | undefined): string | null {
  if (!contentType || !/^\s*multipart\//i.test(contentType)) return null;
  const m = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2] ?? null) : null;
}

export interface PartDigest {
  /** SHA-256 (hex) of the part's body (the DICOM file for WADO-RS / STOW-RS). */
  readonly sha256: string;
  readonly bytes: number;
}

export class MultipartFramingError extends Error {
  override name = 'MultipartFramingError';
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
/** Part headers larger than this are not what WADO-RS sends: refuse rather than buffer without bound. */
const MAX_HEADER_BYTES = 16 * 1024;

type State = 'preamble' | 'headers' | 'body' | 'after-delimiter' | 'epilogue';

/**
 * Hashes the body of every part of a multipart stream as it passes, without holding a part in memory: only a
 * delimiter's length of bytes is kept between chunks. Feed it the bytes in order; `finish()` checks the stream
 * was well framed and returns one digest per part. Used on WADO-RS answers (hashing the DICOM files while they are
 * piped on to STOW-RS) and on read-backs from the target.
 */
export class MultipartDigester {
  private readonly delimiter: Buffer;
  private state: State = 'preamble';
  private carry: Buffer = Buffer.alloc(0);
  private hash: Hash | null = null;
  private partBytes = 0;
  private readonly parts: PartDigest[] = [];

  constructor(boundary: string) {
    if (!boundary || boundary.length > 70) throw new MultipartFramingError('multipart boundary missing or longer than 70 characters');
    // The first delimiter may start the stream without a preceding CRLF; we add one so every delimiter looks alike.
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
    this.carry = CRLF;
  }

  update(chunk: Uint8Array): void {
    let buf: Buffer | null = this.withCarry(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    // Each state consumes what it can and returns the rest, or null once it holds the rest back for the next chunk.
    while (buf) buf = this.step(buf);
  }

  /** The bytes held back from the last chunk, joined to this one. */
  private withCarry(incoming: Buffer): Buffer {
    const carry = this.carry;
    this.carry = Buffer.alloc(0);
    if (carry.length === 0) return incoming;
    if (this.state !== 'body' || incoming.length < this.delimiter.length - 1) return Buffer.concat([carry, incoming]);
    // In a body (nearly every chunk): look for a delimiter that starts in the bytes held back, using only a
    // delimiter's length of the new chunk (any such delimiter ends within it), so the chunk is never copied.
    const joint = Buffer.concat([carry, incoming.subarray(0, this.delimiter.length - 1)]);
    const at = joint.indexOf(this.delimiter);
    if (at < 0 || at >= carry.length) {
      this.bodyBytes(carry);
      return incoming;
    }
    this.bodyBytes(joint.subarray(0, at));
    this.endPart();
    this.state = 'after-delimiter';
    return incoming.subarray(at + this.delimiter.length - carry.length);
  }

  private step(buf: Buffer): Buffer | null {
    switch (this.state) {
      case 'preamble':
        return this.skipPreamble(buf);
      case 'after-delimiter':
        return this.afterDelimiter(buf);
      case 'headers':
        return this.skipHeaders(buf);
      case 'body':
        return this.body(buf);
      case 'epilogue':
        return null;
    }
  }

  private hold(buf: Buffer): null {
    this.carry = Buffer.from(buf);
    return null;
  }

  private skipPreamble(buf: Buffer): Buffer | null {
    const at = buf.indexOf(this.delimiter);
    if (at < 0) return this.hold(buf.subarray(Math.max(0, buf.length - this.delimiter.length + 1)));
    this.state = 'after-delimiter';
    return buf.subarray(at + this.delimiter.length);
  }

  private afterDelimiter(buf: Buffer): Buffer | null {
    if (buf.length < 2) return this.hold(buf);
    if (buf[0] === 0x2d && buf[1] === 0x2d) {
      this.state = 'epilogue';
      return null;
    }
    // Transport padding (spaces, tabs) may follow a delimiter before its CRLF.
    const eol = buf.indexOf(CRLF);
    if (eol < 0) {
      if (buf.length > 1024) throw new MultipartFramingError('no line end after a multipart delimiter');
      return this.hold(buf);
    }
    if (!/^[ \t]*$/.test(buf.subarray(0, eol).toString('latin1')))
      throw new MultipartFramingError('unexpected bytes after a multipart delimiter');
    this.state = 'headers';
    return buf.subarray(eol + 2);
  }

  private skipHeaders(buf: Buffer): Buffer | null {
    // A part with no headers starts its body right away (a bare CRLF).
    if (buf.length >= 2 && buf[0] === 0x0d && buf[1] === 0x0a) {
      this.beginPart();
      return buf.subarray(2);
    }
    const end = buf.indexOf(HEADER_END);
    if (end < 0) {
      if (buf.length > MAX_HEADER_BYTES) throw new MultipartFramingError('multipart part headers too long');
      return this.hold(buf);
    }
    this.beginPart();
    return buf.subarray(end + HEADER_END.length);
  }

  private body(buf: Buffer): Buffer | null {
    const at = buf.indexOf(this.delimiter);
    if (at < 0) {
      // Keep back what could be the start of a delimiter split across chunks.
      const keep = Math.min(buf.length, this.delimiter.length - 1);
      this.bodyBytes(buf.subarray(0, buf.length - keep));
      return this.hold(buf.subarray(buf.length - keep));
    }
    this.bodyBytes(buf.subarray(0, at));
    this.endPart();
    this.state = 'after-delimiter';
    return buf.subarray(at + this.delimiter.length);
  }

  /** The digests of the parts; throws when the stream ended before its closing delimiter. */
  finish(): PartDigest[] {
    if (this.state !== 'epilogue') throw new MultipartFramingError(`multipart stream ended early (${this.state})`);
    return this.parts;
  }

  private beginPart(): void {
    this.hash = createHash('sha256');
    this.partBytes = 0;
    this.state = 'body';
  }

  private bodyBytes(b: Buffer): void {
    if (b.length === 0) return;
    this.hash!.update(b);
    this.partBytes += b.length;
  }

  private endPart(): void {
    this.parts.push({ sha256: this.hash!.digest('hex'), bytes: this.partBytes });
    this.hash = null;
  }
}
