import { condition } from '@temporalio/workflow';

/**
 * One holder at a time, first come first served, for workflow code. @temporalio/workflow (1.24) exports no
 * mutex, and a library such as async-mutex would be a new dependency of the workflow bundle for ~15 lines.
 *
 * Why tickets: `condition()` resolves every waiter whose predicate holds in the same pass (and evaluates it
 * eagerly), so `await condition(() => !busy); busy = true` lets two waiters in at once when both are waiting
 * as the holder leaves, or when both arrive in one activation. With a ticket, only the next one's predicate holds.
 *
 * `fair: false` keeps that old behaviour for executions recorded before the fix (behind `patched()` by the
 * caller), so that they replay the commands they recorded.
 */
export class Mutex {
  private held = false;
  private issued = 0;
  private serving = 0;
  /** Tickets whose holders stopped waiting (their scope was cancelled): their turn is skipped. */
  private readonly abandoned = new Set<number>();

  constructor(private readonly fair = true) {}

  async runExclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.fair) {
      const ticket = this.issued++;
      try {
        await condition(() => this.serving === ticket);
      } catch (e) {
        this.abandoned.add(ticket);
        this.skipAbandoned();
        throw e;
      }
    } else {
      await condition(() => !this.held);
    }
    this.held = true;
    try {
      return await fn();
    } finally {
      this.held = false;
      this.serving += 1;
      this.skipAbandoned();
    }
  }

  private skipAbandoned(): void {
    while (this.abandoned.delete(this.serving)) this.serving += 1;
  }
}
