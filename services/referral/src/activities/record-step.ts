import { JsonType, ReferenceKind } from '@mikro-orm/core';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { nativeQuery, SqlParams } from '@sonet/service-kit';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { context, trace, type Context as TraceContext } from '@opentelemetry/api';
import type { EventDefinition } from '@sonet/contracts';
import { buildEvent, contextFromTraceHeaders, deriveId, outboxInsertSql, type NewEvent } from '@sonet/messaging';
import { EVENT_SOURCE } from '../config';
import { Patient, Referral } from '../domain/entities';
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

/** A scalar property of an entity and its column, from the ORM's metadata (the mapping stays in entities.ts). */
interface Column {
  readonly prop: string;
  readonly column: string;
  /** The value as the entity holds it, from what the driver returns (dates and custom types as the ORM reads them). */
  readonly read: (value: unknown) => unknown;
  /** The value as a bind parameter. */
  readonly write: (value: unknown) => unknown;
  /** The value as compared for a change: dates by time, JSON by its text. */
  readonly comparable: (value: unknown) => unknown;
}

const columnsByOrm = new WeakMap<MikroORM, { referral: Column[]; patient: Column[] }>();

function scalarColumns(orm: MikroORM, entity: typeof Referral | typeof Patient): Column[] {
  const platform = orm.em.getPlatform();
  return orm
    .getMetadata()
    .get<object>(entity)
    .props.filter((prop) => prop.kind === ReferenceKind.SCALAR && prop.persist !== false && prop.fieldNames?.length === 1)
    .map((prop) => {
      const custom = prop.customType;
      const isDate = prop.runtimeType === 'Date';
      const json = custom instanceof JsonType;
      return {
        prop: prop.name,
        column: prop.fieldNames[0]!,
        read: (v: unknown) =>
          v == null ? null : custom ? custom.convertToJSValue(v, platform) : isDate && !(v instanceof Date) ? new Date(v as string) : v,
        write: (v: unknown) => (v == null ? null : json ? JSON.stringify(v) : v),
        comparable: (v: unknown) => (v instanceof Date ? v.getTime() : json && v != null ? JSON.stringify(v) : v),
      };
    });
}

function columnsOf(orm: MikroORM): { referral: Column[]; patient: Column[] } {
  let cols = columnsByOrm.get(orm);
  if (!cols) {
    cols = { referral: scalarColumns(orm, Referral), patient: scalarColumns(orm, Patient) };
    columnsByOrm.set(orm, cols);
  }
  return cols;
}

const asDate = (v: unknown): Date | null => (v == null ? null : v instanceof Date ? v : new Date(v as string));

/**
 * The step, the referral with its patient, and when the referral entered its current state (its first timeline entry
 * after the last one in another state), in one statement.
 */
async function loadForStep(em: EntityManager, orm: MikroORM, referralId: string, eventId: string) {
  const cols = columnsOf(orm);
  const [row] = await nativeQuery<Record<string, unknown>>(
    em,
    `select t.at as "step.doneAt",
            (select min(x.at) from referral_timeline x where x.referral_id = r.id
               and x.at > coalesce((select max(y.at) from referral_timeline y where y.referral_id = r.id and y.state <> r.state), '-infinity'))
              as "step.entered",
            ${cols.referral.map((c) => `r.${c.column} as "r.${c.prop}"`).join(', ')},
            ${cols.patient.map((c) => `p.${c.column} as "p.${c.prop}"`).join(', ')}
       from referral r join patient p on p.id = r.patient_id
       left join referral_timeline t on t.id = $2
      where r.id = $1`,
    [referralId, eventId],
  );
  if (!row) return undefined;
  const pick = (prefix: string, columns: readonly Column[]) =>
    Object.fromEntries(columns.map((c) => [c.prop, c.read(row[`${prefix}.${c.prop}`])]));
  const patient = pick('p', cols.patient);
  const referral = { ...pick('r', cols.referral), patient } as unknown as Referral;
  return { doneAt: asDate(row['step.doneAt']), entered: asDate(row['step.entered']), referral };
}

/** The step's writes, in one statement: the read model's changed columns, the event and the timeline entry. */
async function writeStep(
  em: EntityManager,
  orm: MikroORM,
  loaded: NonNullable<Awaited<ReturnType<typeof loadForStep>>>,
  eventId: string,
  entry: (r: Referral) => StepEntry,
): Promise<{ at: string; left?: { state: ReferralState; since: Date } }> {
  const { referral } = loaded;
  const cols = columnsOf(orm).referral;
  const before = new Map(cols.map((c) => [c.prop, c.comparable((referral as unknown as Record<string, unknown>)[c.prop])]));
  const at = new Date();
  const e = entry(referral);
  const left = e.state && e.state !== referral.state ? { state: referral.state, since: loaded.entered ?? referral.createdAt } : undefined;
  e.apply?.(referral, at);
  if (e.state) referral.state = e.state;
  const after = referral as unknown as Record<string, unknown>;
  const changed = cols.filter((c) => !['updatedAt', 'version'].includes(c.prop) && c.comparable(after[c.prop]) !== before.get(c.prop));

  const $ = new SqlParams();
  const parts: string[] = [];
  if (changed.length > 0) {
    const sets = changed.map((c) => `${c.column} = ${$.add(c.write(after[c.prop]))}`);
    parts.push(`u as (update referral set ${sets.join(', ')}, updated_at = ${$.add(at)}, version = version + 1
                       where id = ${$.add(referral.id)} and version = ${$.add(referral.version)} returning id)`);
  }
  if (e.event) {
    const event = buildEvent(e.event.def, { id: eventId, source: EVENT_SOURCE, subject: referral.id, time: at, data: e.event.data });
    parts.push(`o as (${outboxInsertSql(e.event.def.topic, [event], (v, cast) => $.add(v, cast))})`);
  }
  parts.push(`t as (insert into referral_timeline (id, referral_id, at, state, event_type, summary)
                    values (${$.add(eventId)}, ${$.add(referral.id)}, ${$.add(at)}, ${$.add(referral.state)},
                            ${$.add(e.timelineType ?? e.event?.def.type ?? 'note')}, ${$.add(e.summary)}))`);
  const [row] = await nativeQuery<{ updated: number }>(
    em,
    `with ${parts.join(',\n')} select ${changed.length > 0 ? '(select count(*)::int from u)' : '1'} as updated`,
    $.values,
  );
  if (!row || Number(row.updated) !== 1) {
    throw new Error(`referral ${referral.id} changed while step ${eventId} was recorded; retried on its new state`);
  }
  return { at: at.toISOString(), ...(left ? { left } : {}) };
}

/**
 * The common shape of every step: once per event id, in one transaction: apply the change to the read model,
 * emit the event (if any), add the timeline entry. Returns when it happened (the first time). The entry is
 * built from the referral as it was before the change.
 *
 * Plain SQL in three statements (ADR 21): read the step and the referral, then the read model's changed columns, the
 * timeline entry and the event together. The read model's version guards the update as the ORM's did: a referral
 * changed meanwhile fails the step, and the activity's retry records it on the new state.
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
  const done = await orm.em.fork().transactional(async (em): Promise<{ at: string; left?: { state: ReferralState; since: Date } }> => {
    const loaded = await loadForStep(em, orm, referralId, eventId);
    if (!loaded) throw ApplicationFailure.nonRetryable(`referral ${referralId} not found`, 'ReferralNotFound');
    if (loaded.doneAt) return { at: loaded.doneAt.toISOString() };
    // The step's event (and its statements from here) in the trace of the request behind it.
    return context.with(stepContext(traceparent ?? loaded.referral.traceparent), () => writeStep(em, orm, loaded, eventId, entry));
  });
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
