import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ClientConfig } from 'pg';
import { verifyWithConnection, type DatabaseVerifyReport, type VerifyOptions } from './verify-log';
import type { VerifyJob, VerifyOutcome } from './verify-worker';

const WORKER_FILE = join(__dirname, 'verify-worker.js');

/**
 * Verifies the chain in a worker thread with its own connection. A verification streams the whole log (GBs) through
 * one loop; in a thread of its own it has a small heap of its own, where the service's heap (Nest, MikroORM, Kafka
 * clients) would be driven through a full GC every ~150 ms by the stream's buffers (measured: 36 against 1 per 2M
 * entries, and 15-20% slower), and the service's event loop keeps answering while it runs.
 *
 * From the TypeScript sources (unit and integration tests run them through Jest's transform) there is no compiled
 * worker file to start, so the same verification runs in this thread; the built service, the CLI and the
 * benchmark run it in the worker, which the end-to-end tests exercise.
 */
export async function verifyOffThread(connection: ClientConfig, options: VerifyOptions): Promise<DatabaseVerifyReport> {
  if (!existsSync(WORKER_FILE)) return verifyWithConnection(connection, options);
  const { keyring, ...rest } = options;
  const job: VerifyJob = { ...rest, connection, publicKeys: keyring.publicKeys };
  // execArgv [] rather than the parent's: the service's --import preload (the OpenTelemetry SDK) has no place here.
  const worker = new Worker(WORKER_FILE, { workerData: job, execArgv: [] });
  return new Promise<DatabaseVerifyReport>((resolve, reject) => {
    let settled = false;
    worker.once('message', (outcome: VerifyOutcome) => {
      settled = true;
      if (outcome.ok) resolve(outcome.report);
      else reject(new Error(`verification failed: ${outcome.error}`));
      void worker.terminate();
    });
    worker.once('error', (e) => {
      settled = true;
      reject(e);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the verify worker exited with code ${code} before reporting`));
    });
  });
}
