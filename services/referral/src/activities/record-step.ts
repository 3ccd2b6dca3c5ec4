import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { context, trace, type Context as TraceContext } from '@opentelemetry/api';
import type { EventDefinition } from '@sonet/contracts';
import { contextFromTraceHeaders, deriveId, emitEvent, type NewEvent } from '@sonet/messaging';
import { EVENT_SOURCE } from '../config';
import { Referral, TimelineEntry } from '../domain/entities';
import type { ReferralState } from '../domain/referral-state';
import type { TransitionRecord } from '../workflows/definitions';
import { recordTimeInState } from '../metrics/referral.metrics';

/** An event to emit: its definition and a payload its schema accepts (checked by the compiler, then at emit). */
export interface Emission<T extends string = string> {
  readonly def: EventDefinition<EventDefinition['schema'], T>;
  readonly data: NewEvent<EventDefinition>['data'];
}

export const emission = <D extends EventDefinition>(def: D, data: NewEvent<D>['data']): Emission<D['type']> => ({ def, data });

/** What one step writes: the read-model change, the event (if any) and the timeline entry's summary. */
export interface StepEntry {
  readonly state?: ReferralState;
  readonly summary: string;
  readonly event?: Emission;
  readonly apply?: (r: Referral, at: Date) => void;
  readonly timelineType?: string;
}

/** The event id of a step of the current workflow: retries of the same step derive the same id. */
export function stepId(step: string): string {
  const id = Context.current().info.workflowExecution?.workflowId;
  if (!id) throw ApplicationFailure.nonRetryable('referral activities run only inside a workflow', 'NoWorkflow');
  return deriveId(id, step);
}

/**
 * Where a step's spans and events go: under the activity's own span (Temporal's interceptors) when that is in the
 * trace of the request that caused the step, so the trace reads request → workflow → activity → event; else (no
 * interceptor, or a timer firing in the trace of the workflow's start) directly under that request.
 */
function stepContext(traceparent: string | null | undefined): TraceContext {
  if (!traceparent) return context.active();
  const requested = contextFromTraceHeaders({ traceparent });
  const active = trace.getSpanContext(context.active());
  return active && active.traceId === trace.getSpanContext(requested)?.traceId ? context.active() : requested;
}

/** When the referral entered its current state: its first timeline entry after the last one in another state. */
async function enteredCurrentState(em: EntityManager, r: Referral): Promise<Date> {
  const [row] = await em.execute<{ at: Date | string | null }[]>(
    `select min(at) as at from referral_timeline where referral_id = ?
       and at > coalesce((select max(at) from referral_timeline where referral_id = ? and state <> ?), '-infinity')`,
    [r.id, r.id, r.state],
  );
  return row?.at ? new Date(row.at) : r.createdAt;
}

/**
 * The common shape of every step: once per event id, in one transaction: apply the change to the read model,
 * emit the event (if any), add the timeline entry. Returns when it happened (the first time). The entry is
 * built from the referral as it was before the change.
 *
 * Runs inside the trace of the request that caused the step (a decision's HTTP request), or else of the
 * request that created the referral (timers), so the step's events join that trace.
 */
export async function recordStep(
  orm: MikroORM,
  referralId: string,
  eventId: string,
  entry: (r: Referral) => StepEntry,
  traceparent?: string,
): Promise<{ at: string }> {
  const tp = traceparent ?? (await orm.em.fork().findOne(Referral, { id: referralId }, { fields: ['traceparent'] }))?.traceparent;
  const done = await context.with(stepContext(tp), () =>
    orm.em.fork().transactional(async (em): Promise<{ at: string; left?: { state: ReferralState; since: Date } }> => {
      const existing = await em.findOne(TimelineEntry, { id: eventId });
      if (existing) return { at: existing.at.toISOString() };
      const referral = await em.findOne(Referral, { id: referralId }, { populate: ['patient'] });
      if (!referral) throw ApplicationFailure.nonRetryable(`referral ${referralId} not found`, 'ReferralNotFound');
      const at = new Date();
      const e = entry(referral);
      const left =
        e.state && e.state !== referral.state ? { state: referral.state, since: await enteredCurrentState(em, referral) } : undefined;
      e.apply?.(referral, at);
      if (e.state) referral.state = e.state;
      if (e.event) {
        await emitEvent(em, e.event.def, { id: eventId, source: EVENT_SOURCE, subject: referral.id, time: at, data: e.event.data });
      }
      em.create(TimelineEntry, {
        id: eventId,
        referral,
        at,
        state: referral.state,
        eventType: e.timelineType ?? e.event?.def.type ?? 'note',
        summary: e.summary,
      });
      return { at: at.toISOString(), ...(left ? { left } : {}) };
    }),
  );
  // Once committed: a retried step (found above) records nothing twice.
  if (done.left) recordTimeInState(done.left.state, done.left.since, new Date(done.at));
  return { at: done.at };
}

/** The teams and actor as events name them. */
export const originalTeam = (r: Referral) => ({
  ods: r.originalTeamOds,
  name: r.originalTeamName,
  ...(r.originalTeamId ? { teamId: r.originalTeamId } : {}),
  ...(r.originalTeamEmail ? { contactEmail: r.originalTeamEmail } : {}),
});

export const targetTeam = (r: Referral) => ({
  ods: r.targetTeamOds ?? r.originalTeamOds,
  name: r.targetTeamName ?? '',
  ...(r.targetTeamId ? { teamId: r.targetTeamId } : {}),
  ...(r.targetTeamEmail ? { contactEmail: r.targetTeamEmail } : {}),
});

export const actorOf = (rec: TransitionRecord) => ({
  role: rec.actor.role,
  ...(rec.actor.organisation ? { organisation: rec.actor.organisation } : {}),
});
