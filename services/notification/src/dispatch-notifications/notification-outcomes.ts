import type { EntityManager } from '@mikro-orm/postgresql';
import { context } from '@opentelemetry/api';
import { NotificationFailed, NotificationSent } from '@sonet/contracts';
import { appendManyToOutbox, appendToOutbox, buildEvent, contextFromTraceHeaders, deriveId } from '@sonet/messaging';
import { EVENT_SOURCE } from '../config';
import type { RouteStep } from '../domain/channel';
import { FINAL_ATTEMPT_STATUSES, Notification, type AttemptStatus, type NotificationStatus } from '../domain/entities';
import { attemptIdFor, type RecipientRole } from '../domain/planned-notification';

/** What the outcome of a notification's current channel is written against. */
export interface RouteState {
  readonly id: string;
  readonly referralId: string;
  readonly causationEventId: string;
  readonly recipientRole: RecipientRole;
  readonly channel: Notification['channel'];
  readonly template: string;
  readonly routeStep: number;
  readonly fallbacks: readonly RouteStep[];
  /** Send attempts on this step (for the event; 1 when none was made). */
  readonly attempts: number;
}

/**
 * The row as the writer last saw it: an update only lands when the row is still in that state, so a dispatcher
 * whose lease ran out, or a repeated receipt, changes nothing.
 */
export type RowGuard =
  | { readonly id: string; readonly status: 'pending'; readonly attempts: number }
  | { readonly id: string; readonly status: 'sent'; readonly routeStep: number };

export interface AttemptRecord {
  readonly status: AttemptStatus;
  readonly provider: 'smtp' | 'notify' | null;
  readonly providerId?: string | null;
  readonly reason?: string | null;
  readonly tries: number;
}

/** The fields notification.sent.v1 and notification.failed.v1 share. */
const eventData = (n: RouteState) => ({
  notificationId: n.id,
  referralId: n.referralId,
  causationEventId: n.causationEventId,
  recipientRole: n.recipientRole,
  channel: n.channel,
  template: n.template,
});

/** Writes the attempt of one route step (one row per step; a retry of the step updates it). */
export async function recordAttempt(em: EntityManager, n: Pick<RouteState, 'id' | 'routeStep' | 'channel'>, a: AttemptRecord, now: Date) {
  await recordAttempts(em, [{ n, attempt: a }], now);
}

/** Writes the attempts of several notifications' route steps in one statement. */
export async function recordAttempts(
  em: EntityManager,
  items: readonly { readonly n: Pick<RouteState, 'id' | 'routeStep' | 'channel'>; readonly attempt: AttemptRecord }[],
  now: Date,
) {
  if (items.length === 0) return;
  await em.execute(
    `insert into notification_attempt (id, notification_id, route_step, channel, provider, provider_id, status, reason, tries,
                                       started_at, updated_at, completed_at)
     values ${items.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
     on conflict (notification_id, route_step) do update
        set provider = excluded.provider, provider_id = coalesce(excluded.provider_id, notification_attempt.provider_id),
            status = excluded.status, reason = excluded.reason, tries = excluded.tries, updated_at = excluded.updated_at,
            completed_at = excluded.completed_at`,
    items.flatMap(({ n, attempt: a }) => [
      attemptIdFor(n.id, n.routeStep),
      n.id,
      n.routeStep,
      n.channel,
      a.provider,
      a.providerId ?? null,
      a.status,
      a.reason ?? null,
      a.tries,
      now,
      now,
      FINAL_ATTEMPT_STATUSES.includes(a.status) ? now : null,
    ]),
  );
}

/** notification.sent.v1 for one channel of a notification: one per channel tried; the first keeps the id it always had. */
const sentEvent = (n: RouteState, now: Date) =>
  ({
    id: n.routeStep === 1 ? deriveId(n.id, 'sent') : deriveId(n.id, 'sent', String(n.routeStep)),
    source: EVENT_SOURCE,
    subject: n.referralId,
    time: now,
    data: { ...eventData(n), sentAt: now.toISOString() },
  }) as const;

/** One accepted send of a dispatcher's batch, guarded by the attempt its dispatcher claimed. */
export interface SentOutcome {
  readonly n: RouteState;
  /** The attempt count the dispatcher claimed the row with: the row is only changed while it still has it. */
  readonly claimedAttempts: number;
  readonly attempt: AttemptRecord;
  /** Trace context of the causing event, so each notification.sent.v1 continues its own trace. */
  readonly traceparent: string | null;
}

/**
 * Accepted by the channel: each notification of a dispatcher's batch is `sent` and notification.sent.v1 goes out with
 * it (to `topic`), in three statements (status, attempts, outbox) in the caller's transaction. Each row is guarded
 * (still pending, with the attempt count we claimed); returns the ids that were marked.
 */
export async function markSentMany(em: EntityManager, outcomes: readonly SentOutcome[], now: Date, topic: string): Promise<Set<string>> {
  if (outcomes.length === 0) return new Set();
  // In id order, so two writers locking overlapping rows (never two dispatchers: their claims are disjoint) cannot deadlock.
  const sorted = [...outcomes].sort((a, b) => (a.n.id < b.n.id ? -1 : a.n.id > b.n.id ? 1 : 0));
  const updated = await em.execute<{ id: string }[]>(
    `update notification n
        set status = 'sent', sent_at = ?, next_attempt_at = null, last_error = null
       from (values ${sorted.map(() => '(?::uuid, ?::int)').join(', ')}) as g (id, attempts)
      where n.id = g.id and n.status = 'pending' and n.attempts = g.attempts
     returning n.id`,
    [now, ...sorted.flatMap((o) => [o.n.id, o.claimedAttempts])],
  );
  const marked = new Set(updated.map((r) => r.id));
  const landed = sorted.filter((o) => marked.has(o.n.id));
  await recordAttempts(em, landed, now);
  const events = landed.map((o) =>
    context.with(o.traceparent ? contextFromTraceHeaders({ traceparent: o.traceparent }) : context.active(), () =>
      buildEvent(NotificationSent, sentEvent(o.n, now)),
    ),
  );
  await appendManyToOutbox(em, topic, events);
  return marked;
}

/**
 * The current channel failed for good: the next channel of the recipient's route is tried at once, or, with none
 * left, the notification ends in `finalStatus` and notification.failed.v1 goes out to `topic` (operations see it as
 * unreachable).
 */
export async function fallBackOrGiveUp(
  em: EntityManager,
  n: RouteState,
  guard: RowGuard,
  outcome: { readonly attempt: AttemptRecord; readonly finalStatus: NotificationStatus; readonly reason: string },
  now: Date,
  topic: string,
): Promise<'fell-back' | 'gave-up' | 'guarded-out'> {
  // Channels the recipient agreed to but gave no address for are passed over, each recorded as such.
  const unreachable = n.fallbacks.findIndex((step) => step.address !== null);
  const passedOver = unreachable < 0 ? n.fallbacks : n.fallbacks.slice(0, unreachable);
  const next = unreachable < 0 ? undefined : n.fallbacks[unreachable];
  const nextStep = n.routeStep + passedOver.length + 1;
  const change = next
    ? {
        status: 'pending' as const,
        channel: next.channel,
        recipientAddress: next.address,
        fallbacks: n.fallbacks.slice(unreachable + 1),
        routeStep: nextStep,
        attempts: 0,
        nextAttemptAt: now,
        lastError: `${n.channel}: ${outcome.reason}`,
      }
    : { status: outcome.finalStatus, failedAt: now, nextAttemptAt: null, lastError: `${n.channel}: ${outcome.reason}` };
  const count = await em.nativeUpdate(Notification, guard, change);
  if (count === 0) return 'guarded-out';
  await recordAttempt(em, n, outcome.attempt, now);
  for (const [i, step] of passedOver.entries()) {
    const skipped = { id: n.id, routeStep: n.routeStep + i + 1, channel: step.channel };
    await recordAttempt(em, skipped, { status: 'no-address', provider: null, reason: `no ${step.channel} address given`, tries: 0 }, now);
  }
  if (next) return 'fell-back';
  const failed = buildEvent(NotificationFailed, {
    id: deriveId(n.id, 'failed'),
    source: EVENT_SOURCE,
    subject: n.referralId,
    time: now,
    data: { ...eventData(n), reason: outcome.reason, attempts: Math.max(1, n.attempts), failedAt: now.toISOString() },
  });
  await appendToOutbox(em, topic, failed);
  return 'gave-up';
}
