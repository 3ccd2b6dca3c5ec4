import { randomUUID } from 'node:crypto';

/**
 * The table the query-parameter class tests (unit and HTTP) drive every audit GET endpoint with: for each parameter an
 * endpoint takes, every hostile shape a query string can give it, plus a parameter no endpoint takes. A value is a
 * string as it arrives once the query string is parsed, or an array for a repeated parameter (`?after=1&after=2`).
 */
export type QueryValue = string | string[];

export const BAD_VALUES: Record<string, QueryValue> = {
  'not a number': 'abc',
  'a fraction': '1.5',
  negative: '-1',
  'huge (10^30)': `1${'0'.repeat(30)}`,
  'beyond bigint by one': '9223372036854775808',
  empty: '',
  repeated: ['1', '2'],
  unicode: 'ü€😀',
  'a NUL byte': 'a\u0000b',
  'a lone surrogate': '\ud800',
  'hex digits': '0x10',
  'an exponent': '1e3',
  'far too long': 'x'.repeat(5000),
};

export interface ParamCase {
  readonly endpoint: string;
  /** The path, with a valid id where it takes one. */
  readonly path: string;
  readonly param: string;
  /** Other parameters that make the query otherwise valid (e.g. a narrowing filter). */
  readonly rest: Record<string, string>;
  /** Bad-value names that are in fact valid for this parameter (e.g. `abc` is an ODS code, `ü€😀` an actor id). */
  readonly valid?: readonly string[];
}

const id = randomUUID();
const narrow = { type: 'referral.requested.v1' };

/** Every parameter of every audit GET endpoint (grep `@Query\|@Param` in services/audit/src), and one unknown to each. */
export const PARAM_CASES: readonly ParamCase[] = [
  ...['after', 'limit', 'from', 'to', 'type', 'referralId'].map((param) => ({
    endpoint: 'GET /v1/audit/events',
    path: '/v1/audit/events',
    param,
    rest: param === 'type' ? { from: '2026-01-01T00:00:00Z' } : narrow,
  })),
  {
    endpoint: 'GET /v1/audit/events',
    path: '/v1/audit/events',
    param: 'organisation',
    rest: narrow,
    valid: ['not a number', 'hex digits', 'an exponent'],
  },
  {
    endpoint: 'GET /v1/audit/events',
    path: '/v1/audit/events',
    param: 'actor',
    rest: narrow,
    valid: ['not a number', 'a fraction', 'negative', 'huge (10^30)', 'beyond bigint by one', 'unicode', 'hex digits', 'an exponent'],
  },
  { endpoint: 'GET /v1/audit/events', path: '/v1/audit/events', param: 'nhsNumber', rest: narrow },
  { endpoint: 'GET /v1/audit/events', path: '/v1/audit/events', param: 'unknown', rest: narrow },
  { endpoint: 'GET /v1/audit/verify', path: '/v1/audit/verify', param: 'from', rest: {} },
  { endpoint: 'GET /v1/audit/verify', path: '/v1/audit/verify', param: 'unknown', rest: {} },
  { endpoint: 'GET /v1/audit/referrals/:id/export', path: `/v1/audit/referrals/${id}/export`, param: 'format', rest: {} },
  { endpoint: 'GET /v1/audit/referrals/:id/export', path: `/v1/audit/referrals/${id}/export`, param: 'unknown', rest: {} },
  { endpoint: 'GET /v1/audit/referrals/:id/timeline', path: `/v1/audit/referrals/${id}/timeline`, param: 'unknown', rest: {} },
];

/** The path parameter `:id` of the endpoints that take one, with the same bad values (a repeated one cannot occur). */
export const ID_PATHS: readonly { endpoint: string; path: (id: string) => string }[] = [
  { endpoint: 'GET /v1/audit/referrals/:id/export', path: (v) => `/v1/audit/referrals/${v}/export` },
  { endpoint: 'GET /v1/audit/referrals/:id/timeline', path: (v) => `/v1/audit/referrals/${v}/timeline` },
];

/** [endpoint, param, value name, value, other params] for each bad value a parameter does not accept. */
export const badQueries = (): [string, string, string, QueryValue, Record<string, string>][] =>
  PARAM_CASES.flatMap((c) =>
    Object.entries(BAD_VALUES)
      .filter(([name]) => !(c.valid ?? []).includes(name))
      .map(([name, value]): [string, string, string, QueryValue, Record<string, string>] => [c.endpoint, c.param, name, value, c.rest]),
  );

/** UTF-8 cannot carry a lone surrogate: it goes as the bytes a careless client would send (invalid UTF-8). */
export const encode = (s: string): string => {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80';
  }
};

/** The query string of a case, a repeated parameter repeated. */
export const queryString = (param: string, value: QueryValue, rest: Record<string, string>): string =>
  [
    ...Object.entries(rest).map(([k, v]) => `${k}=${encode(v)}`),
    ...(Array.isArray(value) ? value : [value]).map((v) => `${param}=${encode(v)}`),
  ].join('&');
