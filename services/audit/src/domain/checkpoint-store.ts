import type { EntityManager } from '@mikro-orm/postgresql';
import type { Client } from 'pg';
import { nativeQuery } from '@sonet/service-kit';
import { checkpointQuery, checkpointsOfClient, toStoredCheckpoint, type CheckpointRow, type StoredCheckpoint } from './checkpoint-rows';

export { CHECKPOINT_COLUMNS, toCheckpoint, type CheckpointRow, type StoredCheckpoint } from './checkpoint-rows';

export async function checkpointsOf(
  db: EntityManager | Client,
  chain: string,
  where = '',
  params: unknown[] = [],
): Promise<StoredCheckpoint[]> {
  if (!('getConnection' in db)) return checkpointsOfClient(db, chain, where, params);
  return (await nativeQuery<CheckpointRow>(db, checkpointQuery(where), [chain, ...params])).map(toStoredCheckpoint);
}
