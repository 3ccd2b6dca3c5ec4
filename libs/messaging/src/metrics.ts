import { metrics, type Meter, type ObservableResult } from '@opentelemetry/api';
import { lazyInstrument } from '@sonet/observability';

/**
 * The messaging metrics every service shares (Prometheus names in brackets, as /metrics shows them):
 * - `messaging.inbox.retries` (messaging_inbox_retries_total): handler attempts that failed and were retried;
 * - `messaging.dead_letters` (messaging_dead_letters_total): records sent to `<topic>.dlq`, by topic and reason;
 * - `messaging.outbox.backlog` / `messaging.outbox.oldest_age` (seconds): rows not yet published, and how long the
 *   oldest has waited;
 * - `messaging.kafka.consumer.lag`: per consumer group and partition, the records not yet committed.
 * Instruments are made on first use, from the meter provider installed then (OpenTelemetry starts first).
 */
export const messagingMeter = (): Meter => metrics.getMeter('sonet-messaging');

const instruments = lazyInstrument(
  (meter) => ({
    retries: meter.createCounter('messaging.inbox.retries', { description: 'Failed handler attempts that were retried' }),
    deadLetters: meter.createCounter('messaging.dead_letters', { description: 'Records sent to a dead-letter topic' }),
  }),
  'sonet-messaging',
);

export const countInboxRetry = (consumer: string): void => instruments().retries.add(1, { 'messaging.consumer.group.name': consumer });

export const countDeadLetter = (consumer: string, topic: string, reason: string): void =>
  instruments().deadLetters.add(1, {
    'messaging.consumer.group.name': consumer,
    'messaging.destination.name': topic,
    'error.type': reason,
  });

/** Registers the outbox gauges, read from the database when /metrics is scraped. */
export function observeOutbox(read: () => Promise<{ backlog: number; oldestAgeSeconds: number }>): void {
  const meter = messagingMeter();
  const backlog = meter.createObservableGauge('messaging.outbox.backlog', { description: 'Outbox rows not yet published' });
  const age = meter.createObservableGauge('messaging.outbox.oldest_age', {
    description: 'Age of the oldest unpublished outbox row',
    unit: 's',
  });
  meter.addBatchObservableCallback(
    async (result) => {
      const o = await read();
      result.observe(backlog, o.backlog);
      result.observe(age, o.oldestAgeSeconds);
    },
    [backlog, age],
  );
}

export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  readonly lag: number;
}

/**
 * Registers the consumer-lag gauge of one consumer group, read from the broker when /metrics is scraped, and starts
 * its retry and dead-letter counters at 0 (a series that exists before the first failure, so alerts can compare).
 */
export function observeConsumerLag(groupId: string, topics: readonly string[], read: () => Promise<readonly PartitionLag[]>): void {
  instruments().retries.add(0, { 'messaging.consumer.group.name': groupId });
  for (const topic of topics) {
    instruments().deadLetters.add(0, {
      'messaging.consumer.group.name': groupId,
      'messaging.destination.name': topic,
      'error.type': 'none',
    });
  }
  messagingMeter()
    .createObservableGauge('messaging.kafka.consumer.lag', { description: 'Records of a partition the group has not committed yet' })
    .addCallback(async (result: ObservableResult) => {
      for (const p of await read()) {
        result.observe(p.lag, {
          'messaging.consumer.group.name': groupId,
          'messaging.destination.name': p.topic,
          'messaging.destination.partition.id': String(p.partition),
        });
      }
    });
}

const replays = lazyInstrument(
  (meter) => meter.createCounter('messaging.dead_letters.replayed', { description: 'Dead letters sent again to their topic' }),
  'sonet-messaging',
);

export const countReplay = (dlqTopic: string): void => replays().add(1, { 'messaging.destination.name': dlqTopic });
