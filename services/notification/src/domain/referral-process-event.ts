import type { z } from 'zod';
import { referralProcessEvents, type EventEnvelope } from '@sonet/contracts';

type ProcessEventDefinition = (typeof referralProcessEvents)[number];

/** The referral.*.v1 events that follow a request (declined, referred, triage, … closed). */
export type ReferralProcessEventType = ProcessEventDefinition['type'];

/** Data of one process event type, as validated by the inbox. */
export type ProcessEventData<T extends ReferralProcessEventType> = z.output<Extract<ProcessEventDefinition, { type: T }>['schema']>;

/** Any process event, discriminated by `type`, so a switch narrows its data. */
export type ReferralProcessEvent = {
  [T in ReferralProcessEventType]: EventEnvelope<ProcessEventData<T>> & { readonly type: T };
}[ReferralProcessEventType];

export const REFERRAL_PROCESS_EVENT_TYPES: readonly ReferralProcessEventType[] = referralProcessEvents.map((d) => d.type);
