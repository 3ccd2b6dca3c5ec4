/**
 * RFC 9457 problem details. Domain and input errors are thrown as Problem; the filter answers
 * them as application/problem+json. Types are URNs under this project's namespace.
 */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export interface ProblemOptions {
  /**
   * The request can be run again as it was and will not do twice what it did (it did nothing, or a retry converges
   * on the same effect): an Idempotency-Key answered with it is freed for the retry instead of keeping the answer.
   */
  readonly retrySafe?: boolean;
}

export class Problem extends Error {
  readonly retrySafe: boolean;

  /** `headers`: sent with the answer (e.g. Retry-After), never in its body. */
  constructor(
    readonly body: ProblemBody,
    readonly headers: Readonly<Record<string, string>> = {},
    options: ProblemOptions = {},
  ) {
    super(body.detail ?? body.title);
    this.name = 'Problem';
    this.retrySafe = options.retrySafe ?? false;
  }

  get status(): number {
    return this.body.status;
  }
}

const typeUri = (slug: string) => `urn:sonet:problem:${slug}`;

export interface InvalidParam {
  name: string;
  reason: string;
}

export const validationProblem = (invalidParams: InvalidParam[], detail = 'The request is not valid.') =>
  new Problem({ type: typeUri('validation'), title: 'Invalid request', status: 400, detail, 'invalid-params': invalidParams });

export const notFoundProblem = (detail: string) => new Problem({ type: typeUri('not-found'), title: 'Not found', status: 404, detail });

export const forbiddenProblem = (detail: string) => new Problem({ type: typeUri('forbidden'), title: 'Forbidden', status: 403, detail });

/** 410: it existed and was destroyed for good (e.g. a referral's data key after erasure). */
export const goneProblem = (detail: string) => new Problem({ type: typeUri('gone'), title: 'Gone', status: 410, detail });

export const conflictProblem = (detail: string, extensions: Record<string, unknown> = {}) =>
  new Problem({ type: typeUri('conflict'), title: 'Conflict', status: 409, detail, ...extensions });

/** 412: a condition of the request (If-Match, a version the caller read) no longer holds. */
export const preconditionFailedProblem = (detail: string, extensions: Record<string, unknown> = {}) =>
  new Problem({ type: typeUri('precondition-failed'), title: 'Precondition failed', status: 412, detail, ...extensions });

/**
 * 503; with `retryAfterSeconds`, a Retry-After header saying when trying again makes sense. `retrySafe`: the
 * request may run again under the same Idempotency-Key (see ProblemOptions); otherwise its answer is kept for it.
 */
export const unavailableProblem = (
  detail: string,
  options: { retryAfterSeconds?: number; extensions?: Record<string, unknown>; retrySafe?: boolean } = {},
) =>
  new Problem(
    { type: typeUri('unavailable'), title: 'Service unavailable', status: 503, detail, ...options.extensions },
    options.retryAfterSeconds !== undefined ? { 'retry-after': String(options.retryAfterSeconds) } : {},
    { retrySafe: options.retrySafe ?? false },
  );

export const problemType = typeUri;
