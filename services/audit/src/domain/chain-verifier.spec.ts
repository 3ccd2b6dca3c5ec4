import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { ChainVerifier, type ChainVerifierOptions } from './chain-verifier';
import { CheckpointKeyring, CheckpointSigner } from './checkpoint';
import { draftOf, feed, memoryChain, type MemoryRow } from '../../test/test-chain';

const signer = new CheckpointSigner(generateKeyPairSync('ed25519').privateKey);
const keyring = CheckpointKeyring.fromPem(signer.publicKeyPem());
const CHAIN = 'sonet-audit';
const referral = randomUUID();
const rows = memoryChain(Array.from({ length: 10 }, (_, n) => draftOf(referral, { n })));
const checkpointAt = (r: MemoryRow, kind: 'periodic' | 'retention-anchor' = 'periodic') => signer.sign(CHAIN, String(r.seq), r.hash, kind);

const verify = (input: readonly MemoryRow[], options: Partial<ChainVerifierOptions> = {}) => {
  const v = new ChainVerifier({ chain: CHAIN, keyring, checkpoints: [], ...options });
  feed(v, input);
  return v.finish();
};

describe('verifying the chain', () => {
  it('accepts an untouched chain and reports its head and checkpoints', () => {
    const report = verify(rows, { checkpoints: [checkpointAt(rows[4]!), checkpointAt(rows[9]!)] });
    expect(report).toMatchObject({
      ok: true,
      entries: 10,
      firstSeq: '1',
      lastSeq: '10',
      head: rows[9]!.hash.toString('hex'),
      checkpointsChecked: 2,
      firstBreak: null,
    });
  });

  it('finds a changed entry at its sequence number', () => {
    const changed = rows.map((r) => (r.seq === 4 ? { ...r, canonical: r.canonical.replace('"n":3', '"n":33') } : r));
    expect(verify(changed).firstBreak).toMatchObject({ seq: '4', reason: 'changed' });
  });

  it('finds a changed entry whose stored hash was recomputed too, at the entry after it', () => {
    const forged = memoryChain([draftOf(referral, { n: 333 })], 4, rows[2]!.hash)[0]!;
    const changed = rows.map((r) => (r.seq === 4 ? forged : r));
    expect(verify(changed).firstBreak).toMatchObject({ seq: '5', reason: 'changed' });
  });

  it('finds a deleted entry: the first missing sequence number', () => {
    expect(verify(rows.filter((r) => r.seq !== 6)).firstBreak).toMatchObject({ seq: '6', reason: 'missing' });
  });

  it('finds an inserted entry at the position it claims', () => {
    const inserted = memoryChain([draftOf(referral, { forged: true })], 7, rows[5]!.hash)[0]!;
    const withInsert = [...rows.slice(0, 7), inserted, ...rows.slice(7)];
    expect(verify(withInsert).firstBreak).toMatchObject({ seq: '7', reason: 'duplicate' });
  });

  describe('rows out of their place, each named as what happened to it', () => {
    const at = (...seqs: number[]) => seqs.map((s) => rows[s - 1]!);
    const reasons = (input: readonly MemoryRow[], options: Partial<ChainVerifierOptions> = {}) =>
      verify(input, options).breaks.map((b) => [b.seq, b.reason]);

    it.each<[string, number[], [string, string][]]>([
      ['two neighbours swapped', [1, 2, 3, 5, 4, 6, 7, 8, 9, 10], [['4', 'swapped']]],
      ['two far-apart entries swapped', [1, 2, 8, 4, 5, 6, 7, 3, 9, 10], [['3', 'swapped']]],
      ['an entry moved back', [1, 2, 4, 5, 6, 3, 7, 8, 9, 10], [['3', 'moved']]],
      ['an entry moved forward', [1, 2, 6, 3, 4, 5, 7, 8, 9, 10], [['6', 'moved']]],
      ['a wider reordering', [1, 5, 3, 2, 4, 6, 7, 8, 9, 10], [['2', 'reordered']]],
      ['an entry duplicated in place', [1, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10], [['3', 'duplicate']]],
      ['an entry duplicated further on', [1, 2, 3, 4, 5, 6, 3, 7, 8, 9, 10], [['3', 'duplicate']]],
      ['an entry deleted', [1, 2, 3, 4, 6, 7, 8, 9, 10], [['5', 'missing']]],
      ['the last entry moved to the front of the tail', [1, 2, 3, 4, 5, 6, 7, 8, 10, 9], [['9', 'swapped']]],
    ])('%s', (_what, order, expected) => {
      expect(reasons(at(...order))).toEqual(expected);
    });

    it('reports the entries around a swap as unchanged: the chain is checked in its own order', () => {
      expect(verify(at(1, 2, 3, 5, 4, 6, 7, 8, 9, 10), { checkpoints: [checkpointAt(rows[9]!)] })).toMatchObject({
        entries: 10,
        head: rows[9]!.hash.toString('hex'),
        checkpointsChecked: 1,
      });
    });

    it('names entries shifted to other sequence numbers (the chain still links them) as renumbered, not missing', () => {
      const shifted = rows.map((r) => (r.seq >= 6 ? { ...r, seq: r.seq + 3 } : r));
      expect(reasons(shifted)).toEqual([['9', 'renumbered']]);
    });

    it('names an entry moved further than the reorder window as moved, not missing', () => {
      const long = memoryChain(Array.from({ length: 1100 }, (_, n) => draftOf(referral, { n })));
      const moved = [...long.slice(0, 4), ...long.slice(5, 1100), long[4]!];
      expect(verify(moved).breaks.map((b) => [b.seq, b.reason])).toEqual([['5', 'moved']]);
    });

    it('finds a change inside a swapped pair as well as the swap', () => {
      const changed = at(1, 2, 3, 5, 4, 6, 7, 8, 9, 10).map((r) => (r.seq === 5 ? { ...r, canonical: `${r.canonical} ` } : r));
      expect(reasons(changed)).toEqual([
        ['4', 'swapped'],
        ['5', 'changed'],
      ]);
    });
  });

  it('finds a rewritten history (every hash recomputed) through the signed checkpoint', () => {
    const rewritten = [
      ...rows.slice(0, 3),
      ...memoryChain(
        rows.slice(3).map((_, i) => draftOf(referral, { rewritten: i })),
        4,
        rows[2]!.hash,
      ),
    ];
    const report = verify(rewritten, { checkpoints: [checkpointAt(rows[7]!)] });
    expect(report.firstBreak).toMatchObject({ seq: '8', reason: 'checkpoint-mismatch' });
  });

  it('finds removed last entries through a checkpoint beyond the end', () => {
    expect(verify(rows.slice(0, 7), { checkpoints: [checkpointAt(rows[9]!)] }).firstBreak).toMatchObject({
      seq: '8',
      reason: 'tail-missing',
    });
  });

  it('finds a checkpoint removed from the database through the checkpoint log outside it', () => {
    const report = verify(rows, { checkpoints: [], externalCheckpoints: [checkpointAt(rows[9]!)] });
    expect(report.firstBreak).toMatchObject({ seq: '10', reason: 'checkpoint-missing-in-database' });
  });

  it('refuses a checkpoint whose signature does not hold', () => {
    const cp = { ...checkpointAt(rows[4]!), head: rows[3]!.hash.toString('hex') };
    expect(verify(rows, { checkpoints: [cp] }).breaks.map((b) => b.reason)).toContain('checkpoint-signature');
  });

  it('goes on after a break to report later, independent ones', () => {
    const broken = rows.filter((r) => r.seq !== 2).map((r) => (r.seq === 8 ? { ...r, canonical: `${r.canonical} ` } : r));
    expect(verify(broken).breaks.map((b) => [b.seq, b.reason])).toEqual([
      ['2', 'missing'],
      ['8', 'changed'],
    ]);
  });

  describe('after a retention run', () => {
    const kept = rows.slice(5);

    it('starts from the signed retention anchor when the retention entry accounts for the dropped entries', () => {
      const report = verify(kept, { checkpoints: [checkpointAt(rows[4]!, 'retention-anchor')], retention: { toSeq: '5' } });
      expect(report).toMatchObject({ ok: true, firstSeq: '6', anchor: { seq: '5', kind: 'retention-anchor' } });
    });

    it('reports a missing beginning that no retention run accounts for', () => {
      expect(verify(kept, { checkpoints: [checkpointAt(rows[4]!)] }).firstBreak).toMatchObject({ seq: '1', reason: 'prefix-missing' });
    });

    it('reports a beginning without a signed anchor even when a retention entry claims it', () => {
      expect(verify(kept, { retention: { toSeq: '5' } }).firstBreak).toMatchObject({ seq: '1', reason: 'prefix-missing' });
    });
  });

  it('verifies from a checkpoint on (partial run)', () => {
    const report = verify(rows.slice(5), { checkpoints: [checkpointAt(rows[4]!)], startAfter: checkpointAt(rows[4]!) });
    expect(report).toMatchObject({ ok: true, entries: 5, anchor: { seq: '5' } });
  });
});
