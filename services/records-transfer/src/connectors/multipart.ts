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
    const incoming = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let buf: Buffer;
    if (this.state === 'body' && this.carry.length > 0 && incoming.length >= this.delimiter.length - 1) {
      // In a body (nearly every chunk): look for a delimiter that starts in the bytes held back, using only a
      // delimiter's length of the new chunk (any such delimiter ends within it), so the chunk is never copied.
      const joint = Buffer.concat([this.carry, incoming.subarray(0, this.delimiter.length - 1)]);
      const at = joint.indexOf(this.delimiter);
      if (at >= 0 && at < this.carry.length) {
        this.bodyBytes(joint.subarray(0, at));
        this.endPart();
        this.state = 'after-delimiter';
        const consumed = at + this.delimiter.length - this.carry.length;
        this.carry = Buffer.alloc(0);
        buf = incoming.subarray(consumed);
      } else {
        this.bodyBytes(this.carry);
        this.carry = Buffer.alloc(0);
        buf = incoming;
      }
    } else {
      buf = this.carry.length > 0 ? Buffer.concat([this.carry, incoming]) : incoming;
      this.carry = Buffer.alloc(0);
    }
    for (;;) {
      switch (this.state) {
        case 'preamble': {
          const at = buf.indexOf(this.delimiter);
          if (at < 0) {
            this.carry = Buffer.from(buf.subarray(Math.max(0, buf.length - this.delimiter.length + 1)));
            return;
          }
          buf = buf.subarray(at + this.delimiter.length);
          this.state = 'after-delimiter';
          break;
        }
        case 'after-delimiter': {
          if (buf.length < 2) {
            this.carry = Buffer.from(buf);
            return;
          }
          if (buf[0] === 0x2d && buf[1] === 0x2d) {
            this.state = 'epilogue';
            return;
          }
          // Transport padding (spaces, tabs) may follow a delimiter before its CRLF.
          const eol = buf.indexOf(CRLF);
          if (eol < 0) {
            if (buf.length > 1024) throw new MultipartFramingError('no line end after a multipart delimiter');
            this.carry = Buffer.from(buf);
            return;
          }
          if (!/^[ \t]*$/.test(buf.subarray(0, eol).toString('latin1'))) throw new MultipartFramingError('unexpected bytes after a multipart delimiter');
          buf = buf.subarray(eol + 2);
          this.state = 'headers';
          break;
        }
        case 'headers': {
          // A part with no headers starts its body right away (a bare CRLF).
          if (buf.length >= 2 && buf[0] === 0x0d && buf[1] === 0x0a) {
            buf = buf.subarray(2);
            this.beginPart();
            break;
          }
          const end = buf.indexOf(HEADER_END);
          if (end < 0) {
            if (buf.length > MAX_HEADER_BYTES) throw new MultipartFramingError('multipart part headers too long');
            this.carry = Buffer.from(buf);
            return;
          }
          buf = buf.subarray(end + HEADER_END.length);
          this.beginPart();
          break;
        }
        case 'body': {
          const at = buf.indexOf(this.delimiter);
          if (at < 0) {
            // Keep back what could be the start of a delimiter split across chunks.
            const keep = Math.min(buf.length, this.delimiter.length - 1);
            this.bodyBytes(buf.subarray(0, buf.length - keep));
            this.carry = Buffer.from(buf.subarray(buf.length - keep));
            return;
          }
          this.bodyBytes(buf.subarray(0, at));
          this.endPart();
          buf = buf.subarray(at + this.delimiter.length);
          this.state = 'after-delimiter';
          break;
        }
        case 'epilogue':
          return;
      }
    }
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
