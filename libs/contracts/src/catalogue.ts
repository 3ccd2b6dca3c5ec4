import type { z } from 'zod';
import type { EventEnvelope } from './envelope';
import { EventRegistry } from './registry';
import { ReferralRequested } from './events/referral';
import { RecordsTransferQueued, RecordsTransferRequested, recordsTransferEvents } from './events/records';
import { referralProcessEvents } from './events/referral-process';
import { NotificationFailed, NotificationSent } from './events/notification';
import { AccessRecorded } from './events/access';

/** Every event type of the network. The AsyncAPI document and docs/events.md are generated from this. */
export const Events = new EventRegistry([
  ReferralRequested,
  ...referralProcessEvents,
  ...recordsTransferEvents,
  NotificationSent,
  NotificationFailed,
  AccessRecorded,
]);

/** Event type → its envelope type; for typed handlers, e.g. `@EventPattern<EventMap>('referral.requested.v1')`. */
export interface EventMap {
  'referral.requested.v1': EventEnvelope<z.output<typeof ReferralRequested.schema>>;
  'records.transfer-requested.v1': EventEnvelope<z.output<typeof RecordsTransferRequested.schema>>;
  'records.transfer-queued.v1': EventEnvelope<z.output<typeof RecordsTransferQueued.schema>>;
  'notification.sent.v1': EventEnvelope<z.output<typeof NotificationSent.schema>>;
  'notification.failed.v1': EventEnvelope<z.output<typeof NotificationFailed.schema>>;
  'access.recorded.v1': EventEnvelope<z.output<typeof AccessRecorded.schema>>;
}
