export interface PollLoopOptions {
  /** One round of work; resolves true when more is waiting (a full batch), so the next round starts at once. */
  readonly poll: () => Promise<boolean>;
  /** Pause after a round that found less than a full batch; the unit of the error back-off. */
  readonly idleMs: number;
  /** Most times the pause doubles after consecutive failures (default 8). */
  readonly maxDoublings?: number;
  /** Longest pause after failures (default 30 s). */
  readonly maxBackoffMs?: number;
  /** Called with each failure and how many came in a row; the loop goes on. */
  readonly onError?: (error: Error, failures: number) => void;
}

/** Resolves after ms, or at once when the signal aborts (a stop never waits out a pause). */
const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    // A stop during the round has already fired its abort event: listening for it now would wait the full pause.
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/**
 * Runs a poll round after round until stopped: at once while work is waiting, after idleMs when it is not, and
 * with an exponential back-off while rounds fail. Stopping lets the round in flight finish (so a publish or a send
 * is never left without its outcome) and cuts any pause short.
 */
export class PollLoop {
  private abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(private readonly options: PollLoopOptions) {}

  get running(): boolean {
    return this.loop !== undefined;
  }

  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    this.loop = this.run(this.abort.signal);
  }

  /** Resolves once the round in flight has finished; a later start() begins afresh. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    this.loop = undefined;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const { poll, idleMs, maxDoublings = 8, maxBackoffMs = 30_000, onError } = this.options;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const more = await poll();
        failures = 0;
        if (!more) await pause(idleMs, signal);
      } catch (e) {
        failures++;
        onError?.(e as Error, failures);
        await pause(Math.min(maxBackoffMs, idleMs * 2 ** Math.min(failures, maxDoublings)), signal);
      }
    }
  }
}
