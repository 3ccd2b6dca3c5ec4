import { randomUUID } from 'node:crypto';
import { KafkaBroker } from './kafka/kafka-broker';
import type { ReceivedRecord } from './port';

/**
 * Reads topics from the beginning into memory with a throwaway consumer group, for tests and for operators
 * inspecting a topic (e.g. a dead-letter topic). Callers filter by the ids they are looking for.
 */
export async function readTopicsIntoMemory(
  brokers: readonly string[],
  topics: readonly string[],
): Promise<{ records: ReceivedRecord[]; stop: () => Promise<void> }> {
  const id = `topic-reader-${randomUUID()}`;
  const broker = new KafkaBroker({ brokers, clientId: id });
  const records: ReceivedRecord[] = [];
  // Offsets committed per group of records, not per record: a topic with tens of thousands of records (a benchmark
  // ran against the same network) is read in seconds. Records of one key stay in order; callers filter by ids.
  await broker.subscriber({ groupId: id, topics, fromBeginning: true, recordsConcurrently: 16 }).run(async (r) => void records.push(r));
  return { records, stop: () => broker.close() };
}
