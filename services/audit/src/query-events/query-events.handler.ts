import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { nhsNumberSchema, odsCodeSchema } from '@sonet/contracts';
import { recordAccess, type AccessingPrincipal } from '@sonet/messaging';
import { nativeQuery, parseOrProblem } from '@sonet/service-kit';
import { ENTRY_COLUMNS, toAuditEventView, type AuditEventView, type EntryRow } from '../domain/audit-event.view';
import { NO_REFERRAL } from '../domain/entry-document';
import { pageSize, plainText, seqNumber } from '../http/query-params';
import { PatientKeyer } from '../domain/patient-identifiers';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 500;
const AT_LEAST_ONE = 'referralId|nhsNumber|actor|organisation|type|from';
/** Entries are recorded after they happen; a day covers producers' clock skew. Used to skip older partitions. */
const RECORDING_SKEW = '1 day';

const ceType = z.string().regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+\.v[0-9]+$/, 'must be a ce_type such as referral.requested.v1');
const instant = z.iso
  .datetime({ offset: true, message: 'must be an ISO-8601 date-time with a zone, e.g. 2026-01-31T09:00:00Z' })
  .transform((s) => new Date(s));
const seqCursor = seqNumber('must be the `next` value of a previous page');

const filters = {
  referralId: z.uuid().optional(),
  actor: plainText(200).optional(),
  organisation: odsCodeSchema.optional(),
  type: ceType.optional(),
  from: instant.optional(),
  to: instant.optional(),
  limit: pageSize(MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE),
  after: seqCursor.optional(),
};

type Narrowing = {
  referralId?: unknown;
  nhsNumber?: unknown;
  actor?: unknown;
  organisation?: unknown;
  type?: unknown;
  from?: unknown;
  to?: unknown;
};
const narrowed = <T extends Narrowing>(schema: z.ZodType<T>) =>
  schema
    .refine((q) => [q.referralId, q.nhsNumber, q.actor, q.organisation, q.type, q.from].some((v) => v !== undefined), {
      path: [AT_LEAST_ONE],
      message: 'give at least one of referralId, nhsNumber, actor, organisation, type or from',
    })
    .refine((q) => !(q.from instanceof Date) || !(q.to instanceof Date) || q.from < q.to, { path: ['to'], message: 'must be after from' });

/**
 * Filters of GET /v1/audit/events (query string). The NHS number is not among them: a URL ends up in logs and
 * proxies, so the patient filter travels in the body of POST /v1/audit/events/search. Filters combine (AND);
 * `from` is inclusive and `to` exclusive, both on the event's own time.
 */
export const eventsQuerySchema = narrowed(z.object(filters).strict());
/** The body of POST /v1/audit/events/search: the same filters, plus the patient's NHS number. */
export const eventsSearchSchema = narrowed(z.object({ ...filters, nhsNumber: nhsNumberSchema.optional() }).strict());

export type EventsFilter = z.output<typeof eventsSearchSchema>;

/** Validates the query string; throws a 400 problem naming each invalid parameter (values are not echoed). */
export const parseEventsQuery = (query: unknown): EventsFilter => parseOrProblem(eventsQuerySchema, query, 'query');
export const parseEventsSearch = (body: unknown): EventsFilter => parseOrProblem(eventsSearchSchema, body, 'search');

export interface EventsPage {
  items: AuditEventView[];
  /** Pass as `after` for the next page; null on the last page. */
  next: string | null;
}

/** Cuts one page from up to limit + 1 rows in seq order: the extra row only says that there is more. */
export function pageOf(rows: readonly EntryRow[], limit: number): EventsPage {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { items: page.map(toAuditEventView), next: rows.length > limit && last ? last.seq : null };
}

/** The WHERE clause and its bind parameters ($1...) for a filter; the patient comes as its lookup key. */
export function whereOf(filter: EventsFilter, patientKey: string | null): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const conds: string[] = [];
  const p = (v: unknown) => `$${params.push(v)}`;
  if (filter.referralId !== undefined) conds.push(`subject = ${p(filter.referralId)}::uuid`);
  if (filter.nhsNumber !== undefined) {
    // Every entry of every referral the patient is named in (access events name the referral only).
    conds.push(`subject in (select subject from audit_entry where patient_key = ${p(patientKey)})`);
  }
  if (filter.actor !== undefined) conds.push(`actor = ${p(filter.actor)}`);
  if (filter.organisation !== undefined) conds.push(`organisations @> array[${p(filter.organisation)}]::text[]`);
  if (filter.type !== undefined) conds.push(`event_type = ${p(filter.type)}`);
  if (filter.from !== undefined) {
    const from = p(filter.from);
    conds.push(`event_time >= ${from}::timestamptz`, `recorded_at >= ${from}::timestamptz - interval '${RECORDING_SKEW}'`);
  }
  if (filter.to !== undefined) conds.push(`event_time < ${p(filter.to)}::timestamptz`);
  if (filter.after !== undefined) conds.push(`seq > ${p(filter.after)}::bigint`);
  return { sql: conds.length ? `where ${conds.join(' and ')}` : '', params };
}

/** Audit entries matching every given filter, in the order they were recorded, one keyset page at a time. */
@Injectable()
export class QueryEventsHandler {
  constructor(
    private readonly em: EntityManager,
    @Inject(PatientKeyer) private readonly keyer: PatientKeyer,
  ) {}

  async execute(filter: EventsFilter, principal: AccessingPrincipal): Promise<EventsPage> {
    const em = this.em.fork();
    const patientKey = filter.nhsNumber !== undefined ? this.keyer.patientKey(filter.nhsNumber) : null;
    const { sql, params } = whereOf(filter, patientKey);
    const rows = await nativeQuery<EntryRow>(
      em,
      `select ${ENTRY_COLUMNS} from audit_entry ${sql} order by audit_entry.seq limit ${filter.limit + 1}`,
      params,
    );
    const page = pageOf(rows, filter.limit);
    // The audit log reads patient data too: the referrals this page shows are recorded as accessed.
    await recordAccess(em, principal, {
      referralId: page.items.map((i) => i.subject).filter((s) => s !== NO_REFERRAL),
      resource: { service: 'audit', kind: 'audit-query', action: 'search' },
    });
    return page;
  }
}
