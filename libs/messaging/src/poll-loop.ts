export interface PollLoopOptions {
  /** One round of work; resolves true when more is waiting (a full batch), so the next round starts at once. */
  readonly poll: () => Promise<boolean>;
  /**
   * Pause after a round that found less than a full batch; the unit of the error back-off. A function is asked
   * before each pause (e.g. longer while a wake-up source is listening).
   */
  readonly idleMs: number | (() => number);
  /** Most times the pause doubles after consecutive failures (default 8). */
  readonly maxDoublings?: number;
  /** Longest pause after failures (default 30 s). */
  readonly maxBackoffMs?: number;
  /** Called with each failure and how many came in a row; the loop goes on. */
  readonly onError?: (error: Error, failures: number) => void;
}

/** Resolves after ms, or at once when the signal aborts (a stop never waits out a pause) or `cut` is called. */
const pause = (ms: number, signal: AbortSignal, onCut: (cut: () => void) => void) =>
  new Promise<void>((resolve) => {
    // A stop during the round has already fired its abort event: listening for it now would wait the full pause.
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    onCut(done);
  });

/**
 * Runs a poll round after round until stopped: at once while work is waiting, after idleMs when it is not, and
 * with an exponential back-off while rounds fail. Stopping lets the round in flight finish (so a publish or a send
 * is never left without its outcome) and cuts any pause short. `wake()` says work has arrived: an idle pause ends
 * at once, and a wake-up during a round runs another round right after it (wake-ups in between coalesce).
 */
export class PollLoop {
  private abort = new AbortController();
  private loop: Promise<void> | undefined;
  private woken = false;
  private cutPause: (() => void) | undefined;

  constructor(private readonly options: PollLoopOptions) {}

  get running(): boolean {
    return this.loop !== undefined;
  }

  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    this.loop = this.run(this.abort.signal);
  }

  /** Work has arrived: poll now (after the round in flight, if any). A failure back-off is not cut short. */
  wake(): void {
    this.woken = true;
    this.cutPause?.();
  }

  /** Resolves once the round in flight has finished; a later start() begins afresh. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    this.loop = undefined;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const { poll, idleMs, maxDoublings = 8, maxBackoffMs = 30_000, onError } = this.options;
    const idle = () => (typeof idleMs === 'function' ? idleMs() : idleMs);
    let failures = 0;
    while (!signal.aborted) {
      this.woken = false;
      try {
        const more = await poll();
        failures = 0;
        if (!more && !this.woken) {
          await pause(idle(), signal, (cut) => (this.cutPause = cut));
          this.cutPause = undefined;
        }
      } catch (e) {
        failures++;
        onError?.(e as Error, failures);
        await pause(Math.min(maxBackoffMs, idle() * 2 ** Math.min(failures, maxDoublings)), signal, () => undefined);
      }
    }
  }
}
