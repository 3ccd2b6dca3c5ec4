import { dlqTopicOf, headerTextMap, type EventEnvelope } from '@sonet/contracts';
import type { MessagePublisher, ReceivedRecord } from '../port';

export type InboxLog = (level: 'warn' | 'error' | 'info', message: string, extra: Record<string, unknown>) => void;

/**
 * Sends a record the consumer gives up on to `<topic>.dlq`: the original key, body and headers, plus the reason in
 * `dlq-*` headers. If the dead letter cannot be written this throws, the offset is not committed and the record
 * comes back: nothing is lost.
 */
export async function deadLetter(
  publisher: () => Promise<MessagePublisher>,
  consumer: string,
  log: InboxLog | undefined,
  record: ReceivedRecord,
  failure: { kind: string; reason: string; attempts: number; envelope?: EventEnvelope | undefined },
): Promise<void> {
  const headers = {
    ...headerTextMap(record.headers),
    'dlq-reason': failure.kind,
    'dlq-error': failure.reason.slice(0, 4000),
    'dlq-original-topic': record.topic,
    'dlq-original-partition': String(record.partition),
    'dlq-original-offset': record.offset,
    'dlq-consumer-group': consumer,
    'dlq-attempts': String(failure.attempts),
    'dlq-failed-at': new Date().toISOString(),
  };
  const key = record.key === null ? (failure.envelope?.subject ?? '') : record.key.toString();
  const value = record.value === null ? Buffer.alloc(0) : Buffer.from(record.value);
  await (await publisher()).publish([{ topic: dlqTopicOf(record.topic), message: { key, value, headers } }]);
  log?.('error', 'event dead-lettered', {
    consumer,
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    eventId: failure.envelope?.id,
    eventType: failure.envelope?.type,
    reason: failure.kind,
    error: failure.reason,
  });
}
