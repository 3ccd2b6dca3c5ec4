import { Kafka, logLevel } from 'kafkajs';
import { randomUUID } from 'node:crypto';

/**
 * Starts a fresh consumer group at the end of its topics, so it handles only events published from now on (a test
 * suite: not the topics' history, nor the running network's traffic). The messaging port has no offset API, so
 * this sits beside the Kafka adapter. Explicit offsets: resetOffsets({ earliest: false }) commits -1, which a
 * consumer treats as "no offset".
 */
export async function startGroupAtEnd(brokers: readonly string[], groupId: string, topics: readonly string[]): Promise<void> {
  const admin = new Kafka({
    clientId: `group-offsets-${randomUUID().slice(0, 8)}`,
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    for (const topic of topics) {
      // A topic created a moment ago may not answer for its partitions yet (no leader elected, metadata not
      // propagated): those errors are retriable, so they are retried for a while rather than failing the suite.
      await retryingWhileRetriable(async () => {
        const ends = await admin.fetchTopicOffsets(topic);
        await admin.setOffsets({ groupId, topic, partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })) });
      });
    }
  } finally {
    await admin.disconnect();
  }
}

/** Runs fn again while it fails with an error Kafka calls retriable, for up to `forMs`. */
export async function retryingWhileRetriable<T>(fn: () => Promise<T>, forMs = 15_000): Promise<T> {
  const deadline = Date.now() + forMs;
  for (let wait = 100; ; wait = Math.min(wait * 2, 1_000)) {
    try {
      return await fn();
    } catch (e) {
      if (!(e as { retriable?: boolean }).retriable || Date.now() + wait > deadline) throw e;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
