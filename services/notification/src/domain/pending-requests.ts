import { Logger } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ReferralRequestedData } from '@sonet/contracts';
import { currentTraceHeaders } from '@sonet/messaging';
import { recordNotificationsWith, warnUnsendable, type PlannedNotification, type RecordedNotification } from './planned-notification';
import { contactsFromRequested, insertNewContacts, loadContacts, saveContacts, type ReferralContacts } from './referral-contacts';
import { safeErrorMessage } from './redaction';

/** A referral request to record: its notifications and the contacts it gives. */
export interface RequestToRecord {
  readonly planned: readonly PlannedNotification[];
  readonly data: ReferralRequestedData;
}

type Recorded = { notification: RecordedNotification; created: boolean }[];

const logger = new Logger('RecordReferralRequests');

/** Requests left for the end of an inbox transaction, by its EntityManager (one per transaction). */
const pending = new WeakMap<EntityManager, RequestToRecord[]>();

/**
 * Records referral requests in the caller's transaction, in one statement for all of them: their notifications, the
 * channels those could not use, and the contacts of each referral seen for the first time. A request for a referral
 * that has contacts already (a replay, or a second request in the same group) merges into them, in order, as
 * contactsFromRequested says (two more statements each).
 */
export async function recordRequests(em: EntityManager, requests: readonly RequestToRecord[], now: Date): Promise<Recorded> {
  const first = new Map<string, ReferralContacts>();
  for (const r of requests) if (!first.has(r.data.referralId)) first.set(r.data.referralId, contactsFromRequested(r.data));
  let recorded: Recorded;
  try {
    const written = await recordNotificationsWith(
      em,
      requests.flatMap((r) => r.planned),
      now,
      insertNewContacts([...first.values()], now),
    );
    recorded = written.recorded;
    const inserted = new Set(written.alongsideKeys);
    for (const r of requests) {
      const { referralId } = r.data;
      if (inserted.delete(referralId)) continue; // its contacts were inserted just now, from this request
      const existing = await loadContacts(em, referralId);
      await saveContacts(em, contactsFromRequested(r.data, existing), now);
    }
  } catch (e) {
    // The inbox logs this message and copies it into dead-letter headers; a database error's detail would
    // quote the row (address, name, body), so only a safe description travels on. Retried by the inbox.
    throw new Error(`recording notifications failed: ${safeErrorMessage(e)}`);
  }
  warnUnsendable(logger, recorded);
  return recorded;
}

/**
 * Leaves a request for the end of the inbox transaction, where the requests of a whole group of events are recorded
 * together. Each notification keeps the trace of its own event. Anything that reads contacts in the same transaction
 * first calls flushPendingRequests.
 */
export function recordRequestBeforeCommit(
  em: EntityManager,
  request: RequestToRecord,
  beforeCommit: (work: () => Promise<void>) => void,
): void {
  const traceparent = currentTraceHeaders().traceparent ?? null;
  const traced = { ...request, planned: request.planned.map((p) => ({ ...p, traceparent })) };
  const waiting = pending.get(em);
  if (waiting) {
    waiting.push(traced);
    return;
  }
  pending.set(em, [traced]);
  beforeCommit(() => flushPendingRequests(em));
}

/** Records the requests waiting in this transaction now (a handler about to read contacts); nothing when none wait. */
export async function flushPendingRequests(em: EntityManager): Promise<void> {
  const waiting = pending.get(em);
  if (!waiting) return;
  pending.delete(em);
  await recordRequests(em, waiting, new Date());
}
