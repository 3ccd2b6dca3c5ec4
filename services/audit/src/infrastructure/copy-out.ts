import type { Client, Connection, Submittable } from 'pg';
import type { Duplex } from 'node:stream';

/**
 * One tuple of a binary COPY: buf[start, end) holds its field count and length-prefixed fields. Valid only during
 * the call; the sink may overwrite bytes inside the tuple (the verifier writes over a length byte).
 */
export type TupleSink = (buf: Buffer, start: number, end: number) => void;

export class CopyFormatError extends Error {}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const HEADER_FIXED = 19; // signature, flags int32, header-extension length int32
const COPY_DATA = 0x64; // 'd'
const COPY_OUT_RESPONSE = 0x48; // 'H'

/** A big-endian int32 by hand: Buffer#readInt32BE checks its arguments on every call, which shows at ~1M calls/s. */
export const int32 = (buf: Buffer, p: number): number => (buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!;

/**
 * `COPY ... TO STDOUT (FORMAT binary)` as a pg Submittable, for reading millions of rows in one pass.
 *
 * pg's own protocol parser turns each CopyData message (one per row) into a message object and an event, which cost
 * as much as hashing the row. So while the COPY runs this reads the connection's socket itself (the way
 * pg-copy-streams does): CopyData frames are parsed where they lie in the socket's chunks, and only a frame split
 * across two chunks is copied. At the first message that is not CopyOutResponse or CopyData (CopyDone, an
 * ErrorResponse, a notice) the socket goes back to pg's parser with the rest of the chunk, so pg sees the end of the
 * command, or its error, as usual. If the socket cannot be taken over (not exactly one data listener), or any
 * CopyData arrives after the hand-back, pg delivers it to `handleCopyData`, which takes the same path.
 *
 * An exception from the sink stops further calls to it; the COPY is read to its end (so the connection stays usable)
 * and `done` rejects with that exception.
 */
export class BinaryCopyOut implements Submittable {
  readonly done: Promise<number>;
  private resolveDone!: (tuples: number) => void;
  private rejectDone!: (e: Error) => void;
  private failure: Error | null = null;
  private tuples = 0;
  private headerSeen = false;
  private trailerSeen = false;
  private socket: Duplex | null = null;
  private pgListener: ((chunk: Buffer) => void) | null = null;
  private readonly ownListener = (chunk: Buffer): void => this.onSocketData(chunk);
  /** A frame that began in an earlier chunk, and how many of its bytes have arrived. */
  private part: Buffer | null = null;
  private have = 0;

  constructor(
    private readonly text: string,
    private readonly sink: TupleSink,
  ) {
    this.done = new Promise<number>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
  }

  submit(connection: Connection): void {
    const socket = connection.stream;
    const listeners = socket.listeners('data');
    if (listeners.length === 1) {
      this.socket = socket;
      this.pgListener = listeners[0] as (chunk: Buffer) => void;
      socket.removeListener('data', this.pgListener);
      socket.on('data', this.ownListener);
    }
    connection.query(this.text);
  }

  // --- the fast path: frames straight off the socket ---

  private onSocketData(chunk: Buffer): void {
    let pos = 0;
    if (this.part) {
      pos = this.completePart(chunk);
      if (pos < 0) return;
      const frame = this.part;
      this.part = null;
      if (!this.frame(frame, 0, frame.length)) return this.handBack(Buffer.concat([frame, chunk.subarray(pos)]));
    }
    while (pos < chunk.length) {
      const rest = chunk.length - pos;
      const length = rest < 5 ? 5 : 1 + chunk.readUInt32BE(pos + 1);
      if (rest < length) {
        this.part = Buffer.allocUnsafe(length);
        chunk.copy(this.part, 0, pos);
        this.have = rest;
        return;
      }
      if (!this.frame(chunk, pos, pos + length)) return this.handBack(chunk.subarray(pos));
      pos += length;
    }
  }

  /** Adds the chunk's first bytes to the partial frame; returns where the chunk goes on, or -1 if it is used up. */
  private completePart(chunk: Buffer): number {
    let part = this.part!;
    let pos = 0;
    if (this.have < 5) {
      // Not even the length had arrived (the buffer is 5 bytes): learn it, then make room for the whole frame.
      pos = chunk.copy(part, this.have, 0, 5 - this.have);
      this.have += pos;
      if (this.have < 5) return -1;
      const whole = Buffer.allocUnsafe(1 + part.readUInt32BE(1));
      part.copy(whole, 0, 0, 5);
      part = this.part = whole;
    }
    const n = chunk.copy(part, this.have, pos, pos + part.length - this.have);
    this.have += n;
    return this.have < part.length ? -1 : pos + n;
  }

  /** Handles a CopyOutResponse or CopyData frame, buf[pos, end); false for any other message (not consumed). */
  private frame(buf: Buffer, pos: number, end: number): boolean {
    const type = buf[pos];
    if (type === COPY_DATA) {
      this.copyData(buf, pos + 5, end);
      return true;
    }
    return type === COPY_OUT_RESPONSE;
  }

  private handBack(rest: Buffer): void {
    const socket = this.socket!;
    const pg = this.pgListener!;
    socket.removeListener('data', this.ownListener);
    socket.on('data', pg);
    this.socket = null;
    this.pgListener = null;
    if (rest.length > 0) pg(rest);
  }

  // --- CopyData content, from either path ---

  private copyData(buf: Buffer, start: number, end: number): void {
    let pos = start;
    try {
      if (!this.headerSeen) {
        if (end - pos < HEADER_FIXED || buf.compare(SIGNATURE, 0, SIGNATURE.length, pos, pos + SIGNATURE.length) !== 0)
          throw new CopyFormatError('not a binary COPY stream');
        pos += HEADER_FIXED + buf.readUInt32BE(pos + 15);
        this.headerSeen = true;
      }
      while (pos < end) {
        if (this.trailerSeen) throw new CopyFormatError('data after the end of the binary COPY');
        if (end - pos < 2) throw new CopyFormatError('a tuple runs past its CopyData message');
        const fields = (buf[pos]! << 8) | buf[pos + 1]!;
        if (fields === 0xffff) {
          this.trailerSeen = true;
          pos += 2;
          continue;
        }
        let p = pos + 2;
        for (let f = 0; f < fields && p + 4 <= end; f++) {
          const length = int32(buf, p); // -1: null
          p += 4 + (length > 0 ? length : 0);
        }
        if (p > end) throw new CopyFormatError('a tuple runs past its CopyData message');
        if (this.failure === null) this.sink(buf, pos, p);
        this.tuples++;
        pos = p;
      }
    } catch (e) {
      this.failure ??= e instanceof Error ? e : new Error(String(e));
    }
  }

  // --- pg's Submittable callbacks ---

  handleCopyData(msg: { chunk: Buffer }): void {
    this.copyData(msg.chunk, 0, msg.chunk.length);
  }

  handleCommandComplete(): void {
    if (!this.trailerSeen) this.failure ??= new CopyFormatError('the binary COPY ended without its trailer');
  }

  handleError(error: Error): void {
    if (this.socket) this.handBack(Buffer.alloc(0));
    this.failure = error;
    this.rejectDone(error);
  }

  handleReadyForQuery(): void {
    if (this.failure) this.rejectDone(this.failure);
    else this.resolveDone(this.tuples);
  }

  // Anything but COPY OUT is the caller's mistake: fail, and let pg finish the command as usual.
  handleRowDescription(): void {
    this.failure ??= new CopyFormatError('the statement returned rows, not a COPY TO STDOUT');
  }

  handleDataRow(): void {
    this.handleRowDescription();
  }

  handleEmptyQuery(): void {
    this.failure ??= new CopyFormatError('empty statement, not a COPY TO STDOUT');
  }

  handleCopyInResponse(connection: Connection): void {
    this.failure ??= new CopyFormatError('a COPY FROM STDIN, not a COPY TO STDOUT');
    // pg's own Query answers an unexpected COPY FROM the same way (the method is not in @types/pg).
    (connection as Connection & { sendCopyFail(message: string): void }).sendCopyFail('not a COPY TO STDOUT');
  }
}

/** Runs a binary COPY TO STDOUT on the client, calling `sink` for each tuple; resolves with the number of tuples. */
export function copyOut(client: Client, sql: string, sink: TupleSink): Promise<number> {
  const query = new BinaryCopyOut(sql, sink);
  client.query(query);
  return query.done;
}
