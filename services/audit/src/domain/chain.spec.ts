import { createHash } from 'node:crypto';
import { chainHash, ChainFolder, entryDigest, GENESIS_HASH } from './chain';

const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const bytes = (s: string) => Buffer.from(s, 'utf8');

describe('the hash chain', () => {
  it('digests an entry as SHA-256 over 0x00 and its canonical bytes', () => {
    expect(entryDigest(bytes('{"a":1}'))).toEqual(sha(Buffer.of(0), bytes('{"a":1}')));
  });

  it('links an entry as SHA-256 over 0x01, the previous hash and its digest', () => {
    const d = entryDigest(bytes('{"a":1}'));
    expect(chainHash(GENESIS_HASH, d)).toEqual(sha(Buffer.of(1), GENESIS_HASH, d));
  });

  it('keeps leaves and links apart: the same 65 bytes hash differently as a leaf and as a link', () => {
    const d = entryDigest(bytes('x'));
    const asLink = chainHash(GENESIS_HASH, d);
    const asLeaf = entryDigest(Buffer.concat([GENESIS_HASH, d]));
    expect(asLink).not.toEqual(asLeaf);
  });

  it('starts from 32 zero bytes', () => {
    expect(GENESIS_HASH).toEqual(Buffer.alloc(32));
  });

  it('changes every later hash when one entry changes', () => {
    const fold = (entries: string[]) => {
      const f = new ChainFolder();
      return entries.map((e) => Buffer.from(f.leaf(bytes(e))).toString('hex'));
    };
    const a = fold(['{"n":1}', '{"n":2}', '{"n":3}']);
    const b = fold(['{"n":1}', '{"n":22}', '{"n":3}']);
    expect(a[0]).toBe(b[0]);
    expect(a[1]).not.toBe(b[1]);
    expect(a[2]).not.toBe(b[2]);
  });

  it('depends on order: swapping two entries gives another head', () => {
    const head = (entries: string[]) => {
      const f = new ChainFolder();
      entries.forEach((e) => f.leaf(bytes(e)));
      return f.head.toString('hex');
    };
    expect(head(['a', 'b'])).not.toBe(head(['b', 'a']));
  });

  it('hashes canonical bytes in place (over the byte before them) exactly as from a copy', () => {
    const canonical = bytes('{"seq":"1"}');
    const buf = Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0x0b]), canonical]);
    const inPlace = new ChainFolder();
    inPlace.leafInPlace(buf, 4, buf.length);
    expect(inPlace.head).toEqual(new ChainFolder().leaf(canonical));
    expect(inPlace.head).toEqual(chainHash(GENESIS_HASH, entryDigest(canonical)));
  });

  it('keeps every byte value of the head through its string form (0x00, 0x80-0xff included)', () => {
    const start = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 0x80) & 0xff));
    start[0] = 0x00;
    start[1] = 0xff;
    const f = new ChainFolder(start);
    expect(f.head).toEqual(start);
    expect(f.headHex).toBe(start.toString('hex'));
    const d = entryDigest(bytes('{"a":"é"}'));
    expect(f.digest(d)).toEqual(chainHash(start, d));
  });

  it('compares its head with stored bytes at an offset, and goes on from stored bytes', () => {
    const f = new ChainFolder();
    f.leaf(bytes('{"n":1}'));
    const row = Buffer.concat([Buffer.from('xyz'), f.head, Buffer.from('tail')]);
    expect(f.headEquals(row, 3)).toBe(true);
    expect(f.headEquals(row, 2)).toBe(false);
    row[3 + 31] ^= 1;
    expect(f.headEquals(row, 3)).toBe(false);
    f.resetTo(row, 3);
    expect(f.head).toEqual(row.subarray(3, 35));
  });

  it('refuses a start that is not 32 bytes', () => {
    expect(() => new ChainFolder(Buffer.alloc(31))).toThrow(RangeError);
  });

  it('folds digests alone to the same head (what an evidence pack proves with)', () => {
    const entries = ['{"n":1}', '{"n":2}'].map(bytes);
    const full = new ChainFolder();
    entries.forEach((e) => full.leaf(e));
    const byDigest = new ChainFolder();
    entries.forEach((e) => byDigest.digest(entryDigest(e)));
    expect(byDigest.head).toEqual(full.head);
  });
});
