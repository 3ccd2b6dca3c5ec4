import type { z } from 'zod';
import { Events, type EventMap, type RegisteredEvent } from './catalogue';
import type { EventEnvelope } from './envelope';
import { ReferralClosed, ReferralReminderDue } from './events/referral-process';
import { RecordsTransferRequested } from './events/records';

/** Compiles only when A and B are the same type (checked by `tsc`, which type-checks specs too). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(): T => true as T;

describe('EventMap', () => {
  it('has an entry for every registered event type, and nothing else', () => {
    assertType<Equal<keyof EventMap, RegisteredEvent['type']>>();
    // A registered definition that lost its literal type would widen the keys to string.
    assertType<Equal<string extends keyof EventMap ? true : false, false>>();
    expect(Events.all().length).toBeGreaterThan(6);
  });

  it('maps each type to the envelope of its own schema', () => {
    assertType<Equal<EventMap['referral.closed.v1'], EventEnvelope<z.output<typeof ReferralClosed.schema>>>>();
    assertType<Equal<EventMap['referral.reminder-due.v1']['data']['step'], z.output<typeof ReferralReminderDue.schema>['step']>>();
    assertType<Equal<EventMap['records.transfer-requested.v1'], EventEnvelope<z.output<typeof RecordsTransferRequested.schema>>>>();
    const types: (keyof EventMap)[] = Events.all().map((e) => e.type);
    expect(new Set(types).size).toBe(Events.all().length);
  });
});
