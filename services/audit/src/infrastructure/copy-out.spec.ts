import { EventEmitter } from 'node:events';
import type { Connection } from 'pg';
import { BinaryCopyOut, CopyFormatError } from './copy-out';

/** PostgreSQL protocol messages, as a server sends them for COPY ... TO STDOUT (FORMAT binary). */
const message = (type: string, body: Buffer) => {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};
const int16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const tuple = (...fields: (Buffer | null)[]) =>
  Buffer.concat([int16(fields.length), ...fields.map((f) => (f === null ? int32(-1) : Buffer.concat([int32(f.length), f])))]);
const HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), int32(0), int32(0)]);
const copyOutResponse = message('H', Buffer.concat([Buffer.from([1]), int16(2), int16(1), int16(1)]));
const copyData = (b: Buffer) => message('d', b);
const TRAILER = copyData(int16(-1 & 0xffff));
const END = Buffer.concat([message('c', Buffer.alloc(0)), message('C', Buffer.from('COPY 3\0')), message('Z', Buffer.from('I'))]);

const rows = [
  tuple(Buffer.from('one'), Buffer.alloc(70_000, 1)),
  tuple(Buffer.from('two'), null),
  tuple(Buffer.from('three'), Buffer.from('é')),
];
const stream = Buffer.concat([
  copyOutResponse,
  copyData(Buffer.concat([HEADER, rows[0]!])),
  copyData(rows[1]!),
  copyData(rows[2]!),
  TRAILER,
  END,
]);

/** A connection whose socket we drive by hand; pg's own data listener records what it is given. */
function fakeConnection() {
  const socket = new EventEmitter();
  const pgGot: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => pgGot.push(Buffer.from(chunk)));
  const queries: string[] = [];
  const connection = { stream: socket, query: (text: string) => queries.push(text) } as unknown as Connection;
  return { socket, connection, pgGot, queries };
}

function run(chunks: Buffer[]) {
  const { socket, connection, pgGot, queries } = fakeConnection();
  const seen: string[] = [];
  const copy = new BinaryCopyOut('copy x to stdout (format binary)', (buf, start, end) =>
    seen.push(buf.subarray(start, end).toString('hex')),
  );
  copy.submit(connection);
  for (const c of chunks) socket.emit('data', c);
  return { copy, seen, pgGot: Buffer.concat(pgGot), queries };
}

describe('BinaryCopyOut', () => {
  it('reads tuples straight off the socket and hands pg the rest from CopyDone on, wherever the chunks split', async () => {
    const expected = rows.map((r) => r.toString('hex'));
    const cuts = [
      1,
      4,
      5,
      6,
      20,
      copyOutResponse.length,
      copyOutResponse.length + 3,
      70_000,
      stream.length - END.length - 1,
      stream.length - END.length,
      stream.length - 2,
    ];
    for (const cut of cuts) {
      const { copy, seen, pgGot, queries } = run([stream.subarray(0, cut), stream.subarray(cut)]);
      expect(queries).toEqual(['copy x to stdout (format binary)']);
      expect(seen).toEqual(expected);
      expect(pgGot).toEqual(END);
      copy.handleCommandComplete();
      copy.handleReadyForQuery();
      await expect(copy.done).resolves.toBe(3);
    }
  });

  it('copes with a socket that delivers one byte at a time', async () => {
    const { copy, seen, pgGot } = run(Array.from(stream, (b) => Buffer.from([b])));
    expect(seen).toHaveLength(3);
    expect(pgGot).toEqual(END);
    copy.handleCommandComplete();
    copy.handleReadyForQuery();
    await expect(copy.done).resolves.toBe(3);
  });

  it('hands the socket back at a notice, and takes CopyData that pg parses after it the same way', async () => {
    const notice = message('N', Buffer.from('SNOTICE\0Mhello\0\0'));
    const before = Buffer.concat([copyOutResponse, copyData(Buffer.concat([HEADER, rows[0]!]))]);
    const after = Buffer.concat([copyData(rows[1]!), copyData(rows[2]!), TRAILER, END]);
    const { copy, seen, pgGot } = run([Buffer.concat([before, notice, after])]);
    expect(seen).toHaveLength(1);
    expect(pgGot).toEqual(Buffer.concat([notice, after]));
    // pg's parser now delivers the remaining CopyData messages to the submittable.
    for (const r of [rows[1]!, rows[2]!, int16(0xffff)]) copy.handleCopyData({ chunk: Buffer.from(r) });
    expect(seen).toEqual(rows.map((r) => r.toString('hex')));
    copy.handleCommandComplete();
    copy.handleReadyForQuery();
    await expect(copy.done).resolves.toBe(3);
  });

  it('rejects with the server error and gives pg the ErrorResponse', async () => {
    const error = message('E', Buffer.from('SERROR\0C22012\0Mdivision by zero\0\0'));
    const { copy, seen, pgGot } = run([
      Buffer.concat([copyOutResponse, copyData(Buffer.concat([HEADER, rows[0]!])), error, message('Z', Buffer.from('I'))]),
    ]);
    expect(seen).toHaveLength(1);
    expect(pgGot[0]).toBe('E'.charCodeAt(0));
    const e = new Error('division by zero');
    copy.handleError(e);
    copy.handleReadyForQuery();
    await expect(copy.done).rejects.toBe(e);
  });

  it('stops calling a sink that threw, reads on to the end, and rejects with its error', async () => {
    const { socket, connection, pgGot } = fakeConnection();
    let calls = 0;
    const copy = new BinaryCopyOut('copy', () => {
      calls++;
      throw new Error('sink broke');
    });
    copy.submit(connection);
    socket.emit('data', stream);
    expect(calls).toBe(1);
    expect(Buffer.concat(pgGot)).toEqual(END);
    copy.handleCommandComplete();
    copy.handleReadyForQuery();
    await expect(copy.done).rejects.toThrow('sink broke');
  });

  it('refuses a stream that is not binary COPY, or that ends without its trailer', async () => {
    const text = run([Buffer.concat([copyOutResponse, copyData(Buffer.from('1\tone\n')), END])]);
    text.copy.handleCommandComplete();
    text.copy.handleReadyForQuery();
    await expect(text.copy.done).rejects.toThrow(CopyFormatError);

    const cut = run([Buffer.concat([copyOutResponse, copyData(Buffer.concat([HEADER, rows[0]!])), END])]);
    cut.copy.handleCommandComplete();
    cut.copy.handleReadyForQuery();
    await expect(cut.copy.done).rejects.toThrow('without its trailer');
  });

  it('refuses a tuple that claims more bytes than its message holds', async () => {
    const bad = Buffer.concat([int16(1), int32(100), Buffer.from('short')]);
    const { copy, seen } = run([Buffer.concat([copyOutResponse, copyData(Buffer.concat([HEADER, bad])), TRAILER, END])]);
    expect(seen).toHaveLength(0);
    copy.handleCommandComplete();
    copy.handleReadyForQuery();
    await expect(copy.done).rejects.toThrow('runs past its CopyData message');
  });

  it('leaves the socket to pg when it cannot take it over (pg delivers CopyData to handleCopyData)', async () => {
    const { socket, connection, pgGot } = fakeConnection();
    socket.on('data', () => undefined); // a second listener: not the layout it knows
    const seen: number[] = [];
    const copy = new BinaryCopyOut('copy', (buf, start, end) => seen.push(end - start));
    copy.submit(connection);
    socket.emit('data', stream);
    expect(Buffer.concat(pgGot)).toEqual(stream);
    copy.handleCopyData({ chunk: Buffer.concat([HEADER, rows[0]!]) });
    copy.handleCopyData({ chunk: int16(0xffff) });
    copy.handleCommandComplete();
    copy.handleReadyForQuery();
    await expect(copy.done).resolves.toBe(1);
    expect(seen).toEqual([rows[0]!.length]);
  });
});
