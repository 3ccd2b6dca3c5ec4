import type { z } from 'zod';
import type { EventEnvelope } from './envelope';
import { EventRegistry } from './registry';
import { ReferralDataKeyDestroyed, ReferralRequested, ReferralRequestedV2 } from './events/referral';
import { recordsTransferEvents } from './events/records';
import { referralProcessEvents } from './events/referral-process';
import { NotificationFailed, NotificationSent } from './events/notification';
import { AccessRecorded } from './events/access';

/** Every event type of the network. The AsyncAPI document and docs/events.md are generated from this. */
export const Events = new EventRegistry([
  ReferralRequested,
  ReferralRequestedV2,
  ReferralDataKeyDestroyed,
  ...referralProcessEvents,
  ...recordsTransferEvents,
  NotificationSent,
  NotificationFailed,
  AccessRecorded,
]);

/** The definitions `Events` holds, each with its literal type and schema. */
export type RegisteredEvent = ReturnType<(typeof Events)['all']>[number];

/**
 * Event type → its envelope type; for typed handlers, e.g. `@Payload() event: EventMap['referral.requested.v1']`.
 * Derived from the registry, so every registered event has its entry.
 */
export type EventMap = { [D in RegisteredEvent as D['type']]: EventEnvelope<z.output<D['schema']>> };
