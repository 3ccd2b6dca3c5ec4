import { z } from 'zod';
import type { TopicName } from './topics';

/** One event type: its CloudEvents type (with major version), the topic it travels on and its data schema. */
export interface EventDefinition<S extends z.ZodType = z.ZodType, T extends string = string> {
  readonly type: T;
  readonly topic: TopicName;
  readonly description: string;
  readonly schema: S;
}

export type EventData<D extends EventDefinition> = z.infer<D['schema']>;

export function defineEvent<S extends z.ZodType, const T extends string>(def: EventDefinition<S, T>): EventDefinition<S, T> {
  if (!/\.v[0-9]+$/.test(def.type)) throw new Error(`event type ${def.type} must end in .vN`);
  return Object.freeze(def);
}

/** The registered definitions, by type: `D` keeps each one's literal type and schema (see `EventMap`). */
export class EventRegistry<D extends EventDefinition = EventDefinition> {
  private readonly byType = new Map<string, D>();

  constructor(definitions: readonly D[]) {
    for (const d of definitions) {
      if (this.byType.has(d.type)) throw new Error(`event type ${d.type} is defined twice`);
      this.byType.set(d.type, d);
    }
  }

  get(type: string): EventDefinition | undefined {
    return this.byType.get(type);
  }

  all(): D[] {
    return [...this.byType.values()];
  }

  /** Validates an event's data against its schema; the result says why it failed. */
  parse(type: string, data: unknown): { ok: true; data: unknown } | { ok: false; reason: string } {
    const def = this.byType.get(type);
    if (!def) return { ok: false, reason: `unknown event type ${type}` };
    const r = def.schema.safeParse(data);
    return r.success ? { ok: true, data: r.data } : { ok: false, reason: z.prettifyError(r.error) };
  }
}
