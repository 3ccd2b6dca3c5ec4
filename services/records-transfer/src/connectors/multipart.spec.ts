import { createHash, randomBytes } from 'node:crypto';
import { boundaryOf, MultipartDigester, MultipartFramingError } from './multipart';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A multipart/related body as WADO-RS sends it: parts of DICOM bytes between boundary lines. */
function body(boundary: string, parts: Buffer[], opts: { preamble?: string; headers?: string } = {}): Buffer {
  const chunks: Buffer[] = [Buffer.from(opts.preamble ?? '')];
  for (const p of parts) {
    chunks.push(
      Buffer.from(`--${boundary}\r\n${opts.headers ?? 'Content-Type: application/dicom\r\nContent-Length: ' + p.length + '\r\n'}\r\n`),
      p,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

const digestIn = (boundary: string, b: Buffer, chunk: number) => {
  const d = new MultipartDigester(boundary);
  for (let i = 0; i < b.length; i += chunk) d.update(b.subarray(i, i + chunk));
  return d.finish();
};

describe('MultipartDigester', () => {
  const boundary = 'd1c0m-b0undary-42';
  const parts = [randomBytes(5000), randomBytes(1), Buffer.alloc(0), randomBytes(70_000)];
  // A part whose bytes contain CRLF and dashes that look like the start of a delimiter.
  parts.push(Buffer.concat([randomBytes(100), Buffer.from(`\r\n--${boundary.slice(0, 10)}`), randomBytes(100)]));
  const whole = body(boundary, parts);

  it.each([1, 2, 3, 7, 64, 1000, 65_536, whole.length])('hashes each part exactly, whatever the chunking (%i bytes at a time)', (chunk) => {
    expect(digestIn(boundary, whole, chunk)).toEqual(parts.map((p) => ({ sha256: sha(p), bytes: p.length })));
  });

  it('skips a preamble and accepts a part with no headers', () => {
    const p = randomBytes(300);
    const b = Buffer.concat([Buffer.from(`ignored preamble\r\n--${boundary}\r\n\r\n`), p, Buffer.from(`\r\n--${boundary}--`)]);
    expect(digestIn(boundary, b, 5)).toEqual([{ sha256: sha(p), bytes: 300 }]);
  });

  it('notices a flipped byte (the digest differs)', () => {
    const p = randomBytes(1024);
    const bad = Buffer.from(p);
    bad[512] = bad[512]! ^ 0xff;
    expect(digestIn(boundary, body(boundary, [bad]), 100)[0]!.sha256).not.toBe(sha(p));
  });

  it('refuses a stream cut off before its closing delimiter', () => {
    const b = body(boundary, [randomBytes(2000)]);
    expect(() => digestIn(boundary, b.subarray(0, b.length - 30), 100)).toThrow(MultipartFramingError);
    expect(() => digestIn(boundary, b.subarray(0, 1000), 100)).toThrow(MultipartFramingError);
  });

  it('refuses endless part headers rather than buffering them', () => {
    const d = new MultipartDigester(boundary);
    d.update(Buffer.from(`--${boundary}\r\n`));
    expect(() => d.update(Buffer.alloc(20_000, 0x41))).toThrow(MultipartFramingError);
  });

  it('reads the boundary from a content type, quoted or not', () => {
    expect(boundaryOf('multipart/related; type="application/dicom"; boundary=abc123')).toBe('abc123');
    expect(boundaryOf('multipart/related;boundary="a b:c";type="application/dicom"')).toBe('a b:c');
    expect(boundaryOf('application/dicom')).toBeNull();
    expect(boundaryOf(null)).toBeNull();
  });
});
