/**
 * Bounded clean-up for test hooks. Each step gets its own time budget; a step that overruns (a client still
 * reconnecting after a fault, a consumer mid-rebalance, a worker draining an activity) is left behind with a warning
 * rather than holding the hook past Jest's timeout and failing a suite whose tests all passed. Errors are reported,
 * not thrown: a clean-up step failing must not hide the steps after it.
 */
export type TeardownStep = readonly [label: string, run: () => unknown];

export interface TeardownOptions {
  /** Budget per step, ms (default 15 000). */
  perStepMs?: number;
  /** Where overruns and errors are reported (default console.warn). */
  warn?: (message: string) => void;
}

export const teardown = async (steps: readonly TeardownStep[], options: TeardownOptions = {}): Promise<string[]> => {
  const perStepMs = options.perStepMs ?? 15_000;
  const warn = options.warn ?? ((m: string) => console.warn(m));
  const leftBehind: string[] = [];
  for (const [label, run] of steps) {
    let timer: NodeJS.Timeout | undefined;
    const overran = new Promise<'overran'>((resolve) => {
      timer = setTimeout(() => resolve('overran'), perStepMs);
      timer.unref();
    });
    const done = Promise.resolve()
      .then(run)
      .then(
        () => 'done' as const,
        (err: unknown) => {
          warn(`teardown: ${label} failed: ${err instanceof Error ? err.message : String(err)}`);
          return 'failed' as const;
        },
      );
    const outcome = await Promise.race([done, overran]);
    clearTimeout(timer);
    if (outcome === 'overran') {
      warn(`teardown: ${label} still running after ${perStepMs} ms; left behind`);
      leftBehind.push(label);
    }
  }
  return leftBehind;
};

/** The hook timeout that fits `steps` run by `teardown` with `perStepMs` each, plus a margin. */
export const teardownTimeout = (stepCount: number, perStepMs = 15_000): number => stepCount * perStepMs + 10_000;
