import { appendFileSync, existsSync, fsyncSync, mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Checkpoint } from '../domain/checkpoint';

/**
 * Checkpoints kept outside the database: one JSON line each, appended and fsync'ed. Someone who can rewrite the
 * database (entries and checkpoint table alike) cannot reach this file; in production ship it to storage with an
 * object lock or a separate account, and verify against that copy.
 */
export class CheckpointLog {
  constructor(private readonly file: string) {}

  append(checkpoints: readonly Checkpoint[]): void {
    if (checkpoints.length === 0) return;
    mkdirSync(dirname(this.file), { recursive: true });
    appendFileSync(this.file, checkpoints.map((c) => `${JSON.stringify(c)}\n`).join(''), { mode: 0o640 });
    const fd = openSync(this.file, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Every checkpoint in the file (of any chain); lines that are not checkpoints are skipped. */
  read(): Checkpoint[] {
    if (!existsSync(this.file)) return [];
    const out: Checkpoint[] = [];
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const c = JSON.parse(line) as Checkpoint;
        if (typeof c.seq === 'string' && typeof c.head === 'string' && typeof c.signature === 'string') out.push(c);
      } catch {
        // a torn last line after a crash: the next append starts a new line
      }
    }
    return out;
  }

  /** The highest seq written for a chain (0 when none). */
  lastSeq(chain: string): bigint {
    return this.read().reduce((m, c) => (c.chain === chain && BigInt(c.seq) > m ? BigInt(c.seq) : m), 0n);
  }
}
