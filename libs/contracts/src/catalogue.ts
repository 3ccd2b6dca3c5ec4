import { EventRegistry } from './registry';
import { ReferralRequested } from './events/referral';
import { RecordsTransferQueued, RecordsTransferRequested } from './events/records';
import { NotificationFailed, NotificationSent } from './events/notification';

/** Every event type of the network. The AsyncAPI document and docs/events.md are generated from this. */
export const Events = new EventRegistry([
  ReferralRequested,
  RecordsTransferRequested,
  RecordsTransferQueued,
  NotificationSent,
  NotificationFailed,
]);
