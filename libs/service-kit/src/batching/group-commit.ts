/**
 * Group commit: callers submit one item each and await its own answer, and the items are written together. While a
 * group is being written, new items wait and go out as the next group, so a lone item waits for nothing and a busy
 * moment costs one transaction per group rather than one per item (the same idea as PostgreSQL's own group commit).
 *
 * `write` gets the group and answers one result per item, in order. When it throws, every item of that group is
 * answered with the error (nothing of the group was written, as it ran in one transaction) and the next group goes on.
 */
export interface GroupCommitOptions<I, O> {
  readonly write: (items: readonly I[]) => Promise<readonly O[]>;
  /** Items per group at most; the rest wait for the next group. */
  readonly maxItems: number;
}

interface Waiting<I, O> {
  readonly item: I;
  readonly resolve: (o: O) => void;
  readonly reject: (e: unknown) => void;
}

export class GroupCommit<I, O> {
  private queue: Waiting<I, O>[] = [];
  private writing = false;

  constructor(private readonly options: GroupCommitOptions<I, O>) {
    if (!Number.isInteger(options.maxItems) || options.maxItems < 1) throw new RangeError('maxItems must be a positive integer');
  }

  /** Items waiting for a group (not the one being written). */
  get waiting(): number {
    return this.queue.length;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0, this.options.maxItems);
        try {
          const results = await this.options.write(group.map((w) => w.item));
          if (results.length !== group.length) throw new Error(`group commit: ${results.length} results for ${group.length} items`);
          group.forEach((w, i) => w.resolve(results[i] as O));
        } catch (e) {
          for (const w of group) w.reject(e);
        }
      }
    } finally {
      this.writing = false;
    }
  }
}
