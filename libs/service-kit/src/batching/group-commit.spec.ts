import { GroupCommit } from './group-commit';

/** A write whose groups are recorded and which finishes only when the test says so. */
function controlledWrite() {
  const groups: number[][] = [];
  const finishers: ((fail?: Error) => void)[] = [];
  const write = (items: readonly number[]) =>
    new Promise<readonly string[]>((resolve, reject) => {
      groups.push([...items]);
      finishers.push((fail) => (fail ? reject(fail) : resolve(items.map((i) => `done ${i}`))));
    });
  const finishNext = async (fail?: Error) => {
    finishers.shift()!(fail);
    await new Promise((r) => setImmediate(r));
  };
  return { groups, write, finishNext };
}

describe('GroupCommit', () => {
  it('writes a lone item at once, and the items that arrive meanwhile as the next group', async () => {
    const w = controlledWrite();
    const commit = new GroupCommit({ write: w.write, maxItems: 10 });
    const first = commit.submit(1);
    expect(w.groups).toEqual([[1]]);
    const rest = [2, 3, 4].map((i) => commit.submit(i));
    expect(commit.waiting).toBe(3);
    await w.finishNext();
    await expect(first).resolves.toBe('done 1');
    expect(w.groups).toEqual([[1], [2, 3, 4]]);
    await w.finishNext();
    await expect(Promise.all(rest)).resolves.toEqual(['done 2', 'done 3', 'done 4']);
    expect(commit.waiting).toBe(0);
  });

  it('keeps a group to maxItems', async () => {
    const w = controlledWrite();
    const commit = new GroupCommit({ write: w.write, maxItems: 2 });
    const all = [1, 2, 3, 4, 5, 6].map((i) => commit.submit(i));
    await w.finishNext();
    await w.finishNext();
    await w.finishNext();
    await w.finishNext();
    expect(w.groups).toEqual([[1], [2, 3], [4, 5], [6]]);
    await expect(Promise.all(all)).resolves.toHaveLength(6);
  });

  it('answers every item of a failed group with its error, and goes on with the next group', async () => {
    const w = controlledWrite();
    const commit = new GroupCommit({ write: w.write, maxItems: 10 });
    const first = commit.submit(1);
    const failing = [2, 3].map((i) => commit.submit(i));
    await w.finishNext();
    const later = commit.submit(4);
    await w.finishNext(new Error('database down'));
    for (const f of failing) await expect(f).rejects.toThrow('database down');
    await w.finishNext();
    await expect(first).resolves.toBe('done 1');
    await expect(later).resolves.toBe('done 4');
  });

  it('refuses a write that answers for a different number of items', async () => {
    const commit = new GroupCommit<number, string>({ write: async () => ['only one'], maxItems: 10 });
    const first = commit.submit(1);
    const [a, b] = [commit.submit(2), commit.submit(3)];
    await expect(first).resolves.toBe('only one');
    await expect(a).rejects.toThrow('1 results for 2 items');
    await expect(b).rejects.toThrow('1 results for 2 items');
  });

  it('refuses a group size that is not a positive integer', () => {
    expect(() => new GroupCommit({ write: async () => [], maxItems: 0 })).toThrow(RangeError);
  });
});
