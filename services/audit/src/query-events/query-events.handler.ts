import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import type { FilterQuery } from '@mikro-orm/core';
import { z } from 'zod';
import { parseOrProblem } from '@sonet/service-kit';
import { AuditEntry } from '../domain/entities';
import { toAuditEventView, type AuditEventView } from '../domain/audit-event.view';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 500;
const MAX_SEQ = 2n ** 63n - 1n;
const AT_LEAST_ONE = 'referralId|type|from';

const ceType = z.string().regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+\.v[0-9]+$/, 'must be a ce_type such as referral.requested.v1');
const instant = z.iso
  .datetime({ offset: true, message: 'must be an ISO-8601 date-time with a zone, e.g. 2026-01-31T09:00:00Z' })
  .transform((s) => new Date(s));
const seqCursor = z
  .string()
  .regex(/^[0-9]{1,19}$/, 'must be the `next` value of a previous page')
  .refine((s) => BigInt(s) <= MAX_SEQ, 'must be the `next` value of a previous page');

/**
 * Filters of GET /v1/audit/events. At least one of referralId, type or from is required, so no request
 * walks the whole log; `from` is inclusive and `to` exclusive, both on the event's own time (ce_time).
 */
export const eventsQuerySchema = z
  .object({
    referralId: z.uuid().optional(),
    type: ceType.optional(),
    from: instant.optional(),
    to: instant.optional(),
    limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
    after: seqCursor.optional(),
  })
  .strict()
  .refine((q) => q.referralId !== undefined || q.type !== undefined || q.from !== undefined, {
    path: [AT_LEAST_ONE],
    message: 'give at least one of referralId, type or from',
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from < q.to, { path: ['to'], message: 'must be after from' });

export type EventsFilter = z.output<typeof eventsQuerySchema>;

/** Validates the query string; throws a 400 problem naming each invalid parameter (values are not echoed). */
export const parseEventsQuery = (query: unknown): EventsFilter => parseOrProblem(eventsQuerySchema, query, 'query');

export interface EventsPage {
  items: AuditEventView[];
  /** Pass as `after` for the next page; null on the last page. */
  next: string | null;
}

/** Cuts one page from up to limit + 1 rows in seq order: the extra row only says that there is more. */
export function pageOf(rows: readonly AuditEntry[], limit: number): EventsPage {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { items: page.map(toAuditEventView), next: rows.length > limit && last ? String(last.seq) : null };
}

export function whereOf(filter: EventsFilter): FilterQuery<AuditEntry> {
  const where: Record<string, unknown> = {};
  if (filter.referralId !== undefined) where.subject = filter.referralId;
  if (filter.type !== undefined) where.eventType = filter.type;
  if (filter.from !== undefined || filter.to !== undefined) {
    where.eventTime = {
      ...(filter.from !== undefined ? { $gte: filter.from } : {}),
      ...(filter.to !== undefined ? { $lt: filter.to } : {}),
    };
  }
  if (filter.after !== undefined) where.seq = { $gt: filter.after };
  return where as FilterQuery<AuditEntry>;
}

/** Audit entries matching the filters, in the order they were recorded, one keyset page at a time. */
@Injectable()
export class QueryEventsHandler {
  constructor(private readonly em: EntityManager) {}

  async execute(filter: EventsFilter): Promise<EventsPage> {
    const rows = await this.em.fork().find(AuditEntry, whereOf(filter), { orderBy: { seq: 'asc' }, limit: filter.limit + 1 });
    return pageOf(rows, filter.limit);
  }
}
