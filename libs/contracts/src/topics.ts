/**
 * Every Kafka topic the network uses, declared once. A provisioning step creates them
 * (auto-create is off on the broker), so a typo in a topic name fails loudly instead of
 * silently creating a new topic.
 */
export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  /** Retention in milliseconds; -1 keeps messages forever. */
  readonly retentionMs: number;
  readonly description: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export const Topics = {
  referralEvents: 'referral.events.v1',
  recordsCommands: 'records.commands.v1',
  recordsEvents: 'records.events.v1',
  notificationEvents: 'notification.events.v1',
  accessEvents: 'access.events.v1',
} as const;

export type TopicName = (typeof Topics)[keyof typeof Topics];

export const dlqTopicOf = (topic: string): string => `${topic}.dlq`;

const base: readonly TopicSpec[] = [
  {
    name: Topics.referralEvents,
    partitions: 6,
    retentionMs: 30 * DAY_MS,
    description: 'Facts about second-opinion referrals, published by the referral service.',
  },
  {
    name: Topics.recordsCommands,
    partitions: 6,
    retentionMs: 30 * DAY_MS,
    description: 'Requests to the records-transfer service (start or cancel a transfer).',
  },
  {
    name: Topics.recordsEvents,
    partitions: 6,
    retentionMs: 30 * DAY_MS,
    description: 'Outcomes of records transfers, published by the records-transfer service.',
  },
  {
    name: Topics.notificationEvents,
    partitions: 6,
    retentionMs: 30 * DAY_MS,
    description: 'Delivery outcomes of notifications, published by the notification service.',
  },
  {
    name: Topics.accessEvents,
    partitions: 6,
    retentionMs: 30 * DAY_MS,
    description: 'Who read which patient data, published by every service that serves it.',
  },
];

/** Dead letters are kept longer: an operator has to look at them before they go. */
export const TopicCatalogue: readonly TopicSpec[] = [
  ...base,
  ...base.map((t) => ({
    name: dlqTopicOf(t.name),
    partitions: 1,
    retentionMs: 90 * DAY_MS,
    description: `Dead letters of ${t.name}: messages that failed validation or kept failing, with the reason in headers.`,
  })),
];
