import { handleByKey } from './kafka-broker';

const message = (key: string | null, offset: number) => ({ key: key === null ? null : Buffer.from(key), offset: String(offset) });

const tick = () => new Promise((r) => setImmediate(r));

describe('handling the records of one partition concurrently', () => {
  it('keeps the order of records that share a key, and runs different keys side by side', async () => {
    const records = [message('a', 0), message('b', 1), message('a', 2), message('c', 3), message('b', 4), message('a', 5)];
    const done: string[] = [];
    let inFlight = 0;
    let most = 0;
    await handleByKey(records, 3, async (m) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await tick();
      done.push(`${m.key!.toString()}${m.offset}`);
      inFlight--;
    });
    expect(done.filter((d) => d.startsWith('a'))).toEqual(['a0', 'a2', 'a5']);
    expect(done.filter((d) => d.startsWith('b'))).toEqual(['b1', 'b4']);
    expect(done).toHaveLength(6);
    expect(most).toBe(3);
  });

  it('never runs more records at once than asked', async () => {
    const records = Array.from({ length: 20 }, (_, i) => message(`k${i}`, i));
    let inFlight = 0;
    let most = 0;
    await handleByKey(records, 4, async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await tick();
      inFlight--;
    });
    expect(most).toBe(4);
  });

  it('lets every record in flight finish before reporting a failure, and stops starting new ones', async () => {
    const records = Array.from({ length: 10 }, (_, i) => message(`k${i}`, i));
    const finished: string[] = [];
    const started: string[] = [];
    const run = handleByKey(records, 2, async (m) => {
      started.push(m.offset);
      if (m.offset === '1') throw new Error('handler failed');
      await tick();
      await tick();
      finished.push(m.offset);
    });
    await expect(run).rejects.toThrow('handler failed');
    // Record 0 was in flight when record 1 failed: it finished before the failure was reported.
    expect(finished).toContain('0');
    expect(started.length).toBeLessThan(10);
  });

  it('keeps records without a key in their order', async () => {
    const done: string[] = [];
    await handleByKey([message(null, 0), message(null, 1), message(null, 2)], 3, async (m) => {
      await tick();
      done.push(m.offset);
    });
    expect(done).toEqual(['0', '1', '2']);
  });
});
