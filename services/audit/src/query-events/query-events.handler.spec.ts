import { randomUUID } from 'node:crypto';
import { Problem } from '@sonet/service-kit';
import type { EntryRow } from '../domain/audit-event.view';
import { buildEntry } from '../domain/entry-document';
import { draftOf, testKeyer } from '../../test/test-chain';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, pageOf, parseEventsQuery, parseEventsSearch, whereOf } from './query-events.handler';

/** The 400 problem a query is rejected with; fails the test when it is accepted. */
const rejection = (query: Record<string, unknown>) => {
  try {
    parseEventsQuery(query);
  } catch (e) {
    expect(e).toBeInstanceOf(Problem);
    return (e as Problem).body as unknown as { status: number; 'invalid-params': { name: string; reason: string }[] };
  }
  throw new Error(`expected ${JSON.stringify(query)} to be rejected`);
};
const invalidNames = (query: Record<string, unknown>) => rejection(query)['invalid-params'].map((p) => p.name);

const referralId = randomUUID();

describe('filters of the audit event query', () => {
  describe('when no narrowing filter is given', () => {
    it('refuses to walk the whole log', () => {
      const problem = rejection({});
      expect(problem.status).toBe(400);
      expect(problem['invalid-params']).toEqual([
        {
          name: 'referralId|nhsNumber|actor|organisation|type|from',
          reason: 'give at least one of referralId, nhsNumber, actor, organisation, type or from',
        },
      ]);
    });

    it('does not count to, limit or after as narrowing', () => {
      expect(invalidNames({ to: '2026-01-01T00:00:00Z', limit: '10', after: '5' })).toEqual([
        'referralId|nhsNumber|actor|organisation|type|from',
      ]);
    });
  });

  describe('when a single narrowing filter is given', () => {
    it.each([
      { referralId },
      { type: 'referral.requested.v1' },
      { from: '2026-01-01T00:00:00Z' },
      { actor: 'dr-who' },
      { organisation: 'rj1' },
    ])('accepts %j', (query) => {
      expect(() => parseEventsQuery(query)).not.toThrow();
    });
  });

  it('pages 100 entries at a time unless told otherwise', () => {
    expect(parseEventsQuery({ referralId }).limit).toBe(DEFAULT_PAGE_SIZE);
    expect(parseEventsQuery({ referralId, limit: '7' }).limit).toBe(7);
  });

  it('reads times with any zone as instants', () => {
    const f = parseEventsQuery({ from: '2026-01-01T10:00:00+02:00', to: '2026-01-02T00:00:00Z' });
    expect(f.from?.toISOString()).toBe('2026-01-01T08:00:00.000Z');
    expect(f.to?.toISOString()).toBe('2026-01-02T00:00:00.000Z');
  });

  describe('when a filter is malformed', () => {
    it.each([
      ['referralId', { referralId: 'not-a-uuid' }],
      ['type', { referralId, type: 'ReferralRequested' }],
      ['from', { from: 'yesterday' }],
      ['from', { from: '2026-01-01T00:00:00' }],
      ['limit', { referralId, limit: '0' }],
      ['limit', { referralId, limit: String(MAX_PAGE_SIZE + 1) }],
      ['limit', { referralId, limit: 'ten' }],
      ['after', { referralId, after: '-1' }],
      ['after', { referralId, after: '9223372036854775808' }],
      ['to', { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }],
      ['referralId', { referralId: [referralId, referralId] }],
    ])('names %s as invalid in %j', (name, query) => {
      expect(invalidNames(query)).toContain(name);
    });

    it('names a parameter it does not know instead of ignoring it', () => {
      expect(invalidNames({ referralId, subject: referralId })).toEqual(['subject']);
    });

    it('never echoes the values it was given', () => {
      expect(JSON.stringify(rejection({ referralId: 'NHS 943 476 5919' }))).not.toContain('943 476 5919');
    });
  });

  describe('the patient filter', () => {
    it('is refused in the query string, where it would end up in logs', () => {
      expect(invalidNames({ nhsNumber: '9434765919' })).toContain('nhsNumber');
    });

    it('is taken from a search body, normalised, and never echoed when invalid', () => {
      expect(parseEventsSearch({ nhsNumber: '943 476 5919' }).nhsNumber).toBe('9434765919');
      let problem: unknown;
      try {
        parseEventsSearch({ nhsNumber: '943 476 5918' });
      } catch (e) {
        problem = (e as Problem).body;
      }
      expect(JSON.stringify(problem)).toContain('nhsNumber');
      expect(JSON.stringify(problem)).not.toContain('5918');
    });
  });

  describe('how filters become a database condition', () => {
    it('combines every filter, with bind parameters only', () => {
      const f = parseEventsSearch({
        referralId,
        nhsNumber: '9434765919',
        actor: 'dr-who',
        organisation: 'RJ1',
        type: 'referral.requested.v1',
        from: '2026-01-01T00:00:00Z',
        to: '2026-02-01T00:00:00Z',
        after: '41',
      });
      const { sql, params } = whereOf(f, 'k1');
      expect(sql).toBe(
        "where subject = $1::uuid and subject in (select subject from audit_entry where patient_key = $2) and actor = $3 and organisations @> array[$4]::text[] and event_type = $5 and event_time >= $6::timestamptz and recorded_at >= $6::timestamptz - interval '1 day' and event_time < $7::timestamptz and seq > $8::bigint",
      );
      expect(params).toEqual([
        referralId,
        'k1',
        'dr-who',
        'RJ1',
        'referral.requested.v1',
        new Date('2026-01-01T00:00:00Z'),
        new Date('2026-02-01T00:00:00Z'),
        '41',
      ]);
    });

    it('leaves out what was not asked for', () => {
      expect(whereOf(parseEventsQuery({ type: 'referral.requested.v1' }), null)).toEqual({
        sql: 'where event_type = $1',
        params: ['referral.requested.v1'],
      });
    });
  });
});

describe('keyset pages of audit entries', () => {
  const entry = (seq: number, headers: Record<string, string> = {}): EntryRow => ({
    seq: String(seq),
    canonical: buildEntry({ ...draftOf(referralId, { n: seq }), headers }, BigInt(seq), new Date('2026-01-01T00:00:01Z'), testKeyer)
      .canonical,
    hash: 'ab'.repeat(32),
  });

  it('points to the last entry of a full page when there is more', () => {
    const page = pageOf([entry(3), entry(5), entry(8)], 2);
    expect(page.items.map((i) => i.seq)).toEqual(['3', '5']);
    expect(page.next).toBe('5');
  });

  it('has no next cursor on the last page', () => {
    expect(pageOf([entry(3), entry(5)], 2).next).toBeNull();
    expect(pageOf([], 2)).toEqual({ items: [], next: null });
  });

  it('shows an entry with its time as sent, its trace context, its data and its hash', () => {
    const [item] = pageOf([entry(1, { traceparent: 'tp' })], 1).items;
    expect(item).toMatchObject({
      seq: '1',
      time: '2026-11-25T09:00:00.000Z',
      traceparent: 'tp',
      data: { n: 1 },
      recordedAt: '2026-01-01T00:00:01.000Z',
      hash: 'ab'.repeat(32),
    });
    expect(pageOf([entry(2)], 1).items[0]?.traceparent).toBeNull();
  });
});
