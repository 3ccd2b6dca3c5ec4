import type { EntityManager } from '@mikro-orm/postgresql';
import { createEnvelope, toWireMessage, type EventDefinition, type EventEnvelope } from '@sonet/contracts';
import type { z } from 'zod';
import { currentTraceHeaders } from '../trace';

export interface NewEvent<D extends EventDefinition> {
  /** Give a derived id (see deriveId) where a retry must produce the same event. */
  readonly id: string;
  readonly source: string;
  /** The referral id. */
  readonly subject: string;
  readonly data: z.input<D['schema']>;
  readonly time?: Date;
}

/**
 * Builds a validated envelope for an event definition: data that does not match its schema
 * never reaches the outbox. The trace context of the active span goes with it.
 */
export function buildEvent<D extends EventDefinition>(def: D, e: NewEvent<D>): EventEnvelope<z.output<D['schema']>> {
  const data = def.schema.parse(e.data) as z.output<D['schema']>;
  return createEnvelope({
    id: e.id,
    type: def.type,
    source: e.source,
    subject: e.subject,
    ...(e.time ? { time: e.time } : {}),
    data,
    ...currentTraceHeaders(),
  });
}

/**
 * Transactional outbox: the event row is written with the same EntityManager (so the same
 * transaction) as the business change; the relay publishes it afterwards. Inserting an id that is
 * already there does nothing, so a retried step cannot publish twice.
 * Returns true when the row was new.
 */
export async function appendToOutbox(em: EntityManager, topic: string, envelope: EventEnvelope): Promise<boolean> {
  const params: unknown[] = [];
  const res = await em.execute<{ id: string }[]>(`${outboxInsertSql(topic, [envelope], bindTo(params))} returning id`, params);
  return res.length === 1;
}

/** A `param` for outboxInsertSql whose placeholders are em.execute's `?`, its values kept in `params`. */
const bindTo =
  (params: unknown[]) =>
  (value: unknown, cast = ''): string => {
    params.push(value);
    return `?${cast}`;
  };

/**
 * The outbox insert for events, as a statement to run with others in one round trip (a data-modifying WITH part):
 * `param` keeps a value and answers its placeholder. Inserting an id that is already there does nothing.
 */
export function outboxInsertSql(
  topic: string,
  envelopes: readonly EventEnvelope[],
  param: (value: unknown, cast?: string) => string,
): string {
  const rows = envelopes.map((envelope) => {
    const wire = toWireMessage(envelope);
    return `(${param(envelope.id, '::uuid')}, ${param(topic)}, ${param(wire.key)}, ${param(JSON.stringify(wire.headers), '::jsonb')}, ${param(
      wire.value.toString('utf8'),
    )}, ${param(envelope.type)})`;
  });
  return `insert into outbox (id, topic, key, headers, value, event_type) values ${rows.join(', ')} on conflict (id) do nothing`;
}

/** Appends several events to the outbox in one statement (e.g. one access event per referral of a search). */
export async function appendManyToOutbox(em: EntityManager, topic: string, envelopes: readonly EventEnvelope[]): Promise<void> {
  if (envelopes.length === 0) return;
  const params: unknown[] = [];
  await em.execute(outboxInsertSql(topic, envelopes, bindTo(params)), params);
}

/** Builds an event for a definition and appends it to the outbox on the definition's topic. */
export async function emitEvent<D extends EventDefinition>(
  em: EntityManager,
  def: D,
  e: NewEvent<D>,
): Promise<EventEnvelope<z.output<D['schema']>>> {
  const envelope = buildEvent(def, e);
  await appendToOutbox(em, def.topic, envelope);
  return envelope;
}
