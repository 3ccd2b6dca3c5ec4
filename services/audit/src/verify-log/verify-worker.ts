import { parentPort, workerData } from 'node:worker_threads';
import type { KeyObject } from 'node:crypto';
import type { ClientConfig } from 'pg';
import { CheckpointKeyring } from '../domain/checkpoint';
import { verifyWithConnection, type DatabaseVerifyReport, type VerifyOptions } from './verify-log';

/** What the verify runner posts to this worker: the options, with the keyring as its keys (KeyObjects, like bigints, survive the structured copy). */
export type VerifyJob = Omit<VerifyOptions, 'keyring'> & { readonly connection: ClientConfig; readonly publicKeys: readonly KeyObject[] };

export type VerifyOutcome = { readonly ok: true; readonly report: DatabaseVerifyReport } | { readonly ok: false; readonly error: string };

async function run(job: VerifyJob): Promise<VerifyOutcome> {
  const { connection, publicKeys, ...options } = job;
  return { ok: true, report: await verifyWithConnection(connection, { ...options, keyring: new CheckpointKeyring(publicKeys) }) };
}

if (parentPort) {
  const port = parentPort;
  run(workerData as VerifyJob).then(
    (outcome) => port.postMessage(outcome),
    (e: unknown) => port.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) } satisfies VerifyOutcome),
  );
}
