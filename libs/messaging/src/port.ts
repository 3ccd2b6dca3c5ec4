import type { ReceivedWireMessage, WireMessage } from '@sonet/contracts';

/**
 * The small port between this project and its Kafka client. Only files under ./kafka import
 * kafkajs (unmaintained upstream since 2023), so replacing it touches one folder.
 */
export interface OutgoingRecord {
  readonly topic: string;
  readonly message: WireMessage;
}

export interface MessagePublisher {
  /** Resolves once every record is acknowledged by all in-sync replicas. */
  publish(records: readonly OutgoingRecord[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface ReceivedRecord extends ReceivedWireMessage {
  readonly topic: string;
  readonly partition: number;
  /** Kafka offset as a decimal string (offsets are 64-bit). */
  readonly offset: string;
}

export interface SubscriptionOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Start from the earliest retained message when the group has no committed offset. */
  readonly fromBeginning?: boolean;
  /** Partitions handled at once; order within a partition is always kept. */
  readonly partitionsConcurrently?: number;
  /**
   * `run` only: records of one partition handled at once (default 1: one by one, each offset committed after it).
   * Above 1, records with different keys run concurrently while those with the same key keep their order, and the
   * offset is committed once per group of records, after every one of them resolved.
   */
  readonly recordsConcurrently?: number;
}

/** Called for each record in partition order; the offset is committed only after it resolves. */
export type RecordHandler = (record: ReceivedRecord) => Promise<void>;

/** Consecutive records of one partition, in partition order. */
export interface RecordBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly ReceivedRecord[];
}

/** Called for each batch; the offset after the batch's last record is committed only after it resolves. */
export type BatchHandler = (batch: RecordBatch) => Promise<void>;

export interface BatchOptions {
  /** Most records handed over at once (a fetch larger than this is split, in order). */
  readonly maxBatchSize: number;
}

export interface MessageSubscriber {
  run(handler: RecordHandler): Promise<void>;
  /** Like run, a batch of one partition's records at a time: for consumers that write many records in one transaction. */
  runBatches(handler: BatchHandler, options: BatchOptions): Promise<void>;
  stop(): Promise<void>;
}

export interface MessageBroker {
  publisher(): Promise<MessagePublisher>;
  subscriber(options: SubscriptionOptions): MessageSubscriber;
  /** Succeeds when the cluster answers a metadata request. */
  ping(): Promise<void>;
  /** Every record a topic retains now (a throwaway group reads up to the high watermarks): for small topics, e.g. `.dlq`. */
  readTopic(topic: string): Promise<ReceivedRecord[]>;
  /** Per partition of the topics, how many records the group has not committed yet (the consumer-lag metric). */
  consumerLag(groupId: string, topics: readonly string[]): Promise<{ topic: string; partition: number; lag: number }[]>;
  close(): Promise<void>;
}

export const MESSAGE_BROKER = Symbol('MessageBroker');
