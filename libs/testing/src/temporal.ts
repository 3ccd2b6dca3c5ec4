import { DefaultLogger, Runtime } from '@temporalio/worker';

/** Temporal's worker logs at INFO by default; tests only want warnings. Safe to call more than once. */
export function quietTemporalRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed in this test file's module registry.
  }
}
