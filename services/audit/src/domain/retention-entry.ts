/** The log's own event for a retention run: an entry of the chain saying what was dropped and where the rest is anchored. */
export const RETENTION_EVENT_TYPE = 'audit.retention-applied.v1';

export interface RetentionAppliedData {
  readonly retentionMonths: number;
  /** Entries recorded before this instant were dropped (whole months). */
  readonly cutoff: string;
  readonly partitions: readonly string[];
  /** The dropped entries were 1..toSeq (everything before the first entry kept). */
  readonly fromSeq: string;
  readonly toSeq: string;
  readonly entries: string;
  /** hash(entry toSeq), hex: the signed retention-anchor checkpoint at toSeq says the same. */
  readonly anchorHead: string;
  /** Who ran it (the database role of the run). */
  readonly runBy: string;
}
