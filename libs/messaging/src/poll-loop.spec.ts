import { PollLoop } from './poll-loop';

/* The loop's timing decisions, observed through the rounds it runs; real timers with millisecond pauses. */
const until = async (done: () => boolean, ms = 2_000) => {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
};

describe('PollLoop', () => {
  it('polls again at once while work is waiting, then idles', async () => {
    const started: number[] = [];
    const results = [true, true, false];
    const loop = new PollLoop({ poll: async () => (started.push(Date.now()), results.shift() ?? false), idleMs: 60_000 });
    loop.start();
    await until(() => started.length === 3);
    await new Promise((r) => setTimeout(r, 30));
    expect(started).toHaveLength(3); // idling: the fourth round waits a minute
    await loop.stop();
  });

  it('keeps going after failures, reporting each with the count in a row, and resets the count on success', async () => {
    const outcomes: (Error | boolean)[] = [new Error('a'), new Error('b'), false, new Error('c')];
    const errors: [string, number][] = [];
    const loop = new PollLoop({
      poll: async () => {
        const next = outcomes.shift() ?? false;
        if (next instanceof Error) throw next;
        return next;
      },
      idleMs: 1,
      onError: (e, failures) => errors.push([e.message, failures]),
    });
    loop.start();
    await until(() => errors.length === 3);
    await loop.stop();
    expect(errors).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', 1],
    ]);
  });

  it('backs off exponentially while failing, up to maxBackoffMs', async () => {
    const at: number[] = [];
    const loop = new PollLoop({
      poll: async () => {
        at.push(Date.now());
        throw new Error('down');
      },
      idleMs: 10,
      maxBackoffMs: 40,
    });
    loop.start();
    await until(() => at.length === 5);
    await loop.stop();
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    // 20, 40, then capped at 40 (timers may fire a little late, never early)
    expect(gaps.map((g) => g >= 19)).toEqual([true, true, true, true]);
    expect(gaps[1]! >= 39 && gaps[2]! >= 39 && gaps[3]! >= 39).toBe(true);
    expect(Math.max(...gaps)).toBeLessThan(200);
  });

  it('stops without waiting out a pause, and lets the round in flight finish first', async () => {
    let release!: () => void;
    let finished = false;
    const loop = new PollLoop({
      poll: () =>
        new Promise<boolean>((resolve) => {
          release = () => {
            finished = true;
            resolve(false);
          };
        }),
      idleMs: 60_000,
    });
    loop.start();
    await until(() => release !== undefined);
    const stopping = loop.stop();
    let stopped = false;
    void stopping.then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(finished).toBe(true);
    expect(loop.running).toBe(false);
  });

  it('starts once however often start() is called, and can start again after a stop', async () => {
    let rounds = 0;
    const loop = new PollLoop({ poll: async () => (rounds++, false), idleMs: 60_000 });
    loop.start();
    loop.start();
    await until(() => rounds === 1);
    await new Promise((r) => setTimeout(r, 10));
    expect(rounds).toBe(1);
    await loop.stop();
    loop.start();
    await until(() => rounds === 2);
    await loop.stop();
  });

  it('ends an idle pause at once when woken', async () => {
    let rounds = 0;
    const loop = new PollLoop({ poll: async () => (rounds++, false), idleMs: 60_000 });
    loop.start();
    await until(() => rounds === 1);
    loop.wake();
    await until(() => rounds === 2);
    await new Promise((r) => setTimeout(r, 10));
    expect(rounds).toBe(2); // one wake-up, one round: then idle again
    await loop.stop();
  });

  it('runs one more round right after the round in flight when woken during it (wake-ups coalesce)', async () => {
    let rounds = 0;
    let release: (() => void) | undefined;
    const loop = new PollLoop({
      poll: () =>
        new Promise<boolean>((resolve) => {
          rounds++;
          release = () => resolve(false);
        }),
      idleMs: 60_000,
    });
    loop.start();
    await until(() => rounds === 1);
    loop.wake();
    loop.wake();
    release?.();
    await until(() => rounds === 2);
    release?.();
    await new Promise((r) => setTimeout(r, 10));
    expect(rounds).toBe(2);
    await loop.stop();
  });

  it('asks an idle function before each pause', async () => {
    let rounds = 0;
    let idle = 60_000;
    const loop = new PollLoop({ poll: async () => (rounds++, false), idleMs: () => idle });
    loop.start();
    await until(() => rounds === 1);
    idle = 1;
    loop.wake(); // the next pause is asked for after this round
    await until(() => rounds >= 4);
    await loop.stop();
  });

  it('does not cut a failure back-off short when woken', async () => {
    let rounds = 0;
    const loop = new PollLoop({
      poll: async () => {
        rounds++;
        throw new Error('down');
      },
      idleMs: 60_000,
    });
    loop.start();
    await until(() => rounds === 1);
    loop.wake();
    await new Promise((r) => setTimeout(r, 20));
    expect(rounds).toBe(1);
    await loop.stop();
  });
});
