/** The parts of `process` that flushOnShutdown uses (a fake in tests). */
export interface ShutdownProcess {
  readonly pid: number;
  on(event: NodeJS.Signals | 'beforeExit', listener: (signal: NodeJS.Signals) => void): unknown;
  once(event: 'beforeExit', listener: () => void): unknown;
  removeListener(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  listenerCount(event: NodeJS.Signals): number;
  kill(pid: number, signal: NodeJS.Signals): unknown;
}

/**
 * Runs `stop` (flushing buffered spans) before the process ends, last of all shutdown work:
 * - on a termination signal, once every other listener of it is gone. NestJS's shutdown hooks close the app,
 *   remove their listener and send the signal again; only then is `stop` awaited and the signal re-sent, so the
 *   process ends as the signal says (and the spans of the shutdown itself are exported too);
 * - when the event loop empties: a script that ends by itself, or a process whose other listeners (e.g. the
 *   Temporal worker's) stop everything without re-sending the signal. The listeners added here hold nothing open.
 */
export function flushOnShutdown(
  stop: () => Promise<void>,
  proc: ShutdownProcess = process,
  signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'],
): void {
  let stopping: Promise<void> | undefined;
  const stopOnce = () => (stopping ??= stop().catch(() => undefined));
  for (const signal of signals) {
    const onSignal = (): void => {
      if (proc.listenerCount(signal) > 1) return; // someone else is still shutting down; they send the signal again
      void stopOnce().then(() => {
        proc.removeListener(signal, onSignal);
        proc.kill(proc.pid, signal);
      });
    };
    proc.on(signal, onSignal);
  }
  proc.once('beforeExit', () => void stopOnce());
}
