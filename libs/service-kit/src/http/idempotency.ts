import { createParamDecorator, Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { nativeQuery } from '../orm/native-query';
import { unreachableDependency } from './unavailable';
import { Problem, problemType, validationProblem, type ProblemBody } from './problem';
import { problemBodyOf } from './problem.filter';

/**
 * Idempotency-Key on POST (draft-ietf-httpapi-idempotency-key-header): a client that retries after a time-out
 * sends the same key, and gets the first answer instead of a second referral or decision.
 * - same key, same request: the original answer (status, body, Location and ETag), the handler does not run again;
 * - same key, another request (method, path or body): 422 problem+json;
 * - same key while the first is still running: 409 problem+json (retry later), never a second run;
 * - keys are per caller (token subject and organisation) and kept 24 hours.
 * Failed answers are kept like any other, 5xx included: a request that failed may still have taken effect (a
 * referral recorded before its process could start), and the draft forbids re-running it blindly. The exception
 * is a Problem marked `retrySafe` by the code that knows: nothing was done, or a retry converges on what was done
 * (handlers derive ids from `idempotencyOperationOf`, so a second run finds the first run's effect). Then the key
 * is freed and the retry runs.
 */
export const IDEMPOTENCY_STORE = Symbol('IdempotencyStore');
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60_000;
/**
 * A request that has held its key this long without an answer died with its process (SIGKILL, a lost node): the key
 * is free again and a retry runs. Far above what a request takes here (PostgreSQL and Temporal fail fast within 5 s,
 * ADR 0017), and short enough that a client retrying after a crash gets its answer within half a minute. A takeover
 * is safe because handlers derive ids from the key (`idempotencyOperationOf`): a second run finds the first's effect.
 */
export const IDEMPOTENCY_IN_PROGRESS_TIMEOUT_MS = 30_000;

export interface StoredAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

export type IdempotencyBegin =
  | { readonly kind: 'started' }
  | { readonly kind: 'replay'; readonly answer: StoredAnswer }
  | { readonly kind: 'mismatch' }
  | { readonly kind: 'in-progress' };

export interface IdempotencyStore {
  /** Claims (caller, key) for this request atomically, or says what the key already holds. */
  begin(caller: string, key: string, fingerprint: string, now?: Date): Promise<IdempotencyBegin>;
  complete(caller: string, key: string, answer: StoredAnswer): Promise<void>;
  /** Frees a claimed key whose request failed in a way a retry may safely run again (Problem.retrySafe). */
  release(caller: string, key: string): Promise<void>;
}

/** The table a service's migration creates for PostgresIdempotencyStore. */
export const IDEMPOTENCY_SCHEMA_V1 = `
  create table idempotency_key (
    caller varchar(300) not null,
    key varchar(255) not null,
    fingerprint char(64) not null,
    state text not null check (state in ('in-progress', 'done')),
    status integer,
    headers jsonb,
    body jsonb,
    created_at timestamptz not null,
    expires_at timestamptz not null,
    primary key (caller, key)
  );
  create index idempotency_key_expires_idx on idempotency_key (expires_at);
`;

interface Row {
  fingerprint: string;
  state: 'in-progress' | 'done';
  status: number | null;
  headers: Record<string, string> | null;
  body: unknown;
}

const classify = (row: Row, fingerprint: string): IdempotencyBegin => {
  if (row.fingerprint !== fingerprint) return { kind: 'mismatch' };
  if (row.state === 'in-progress') return { kind: 'in-progress' };
  return { kind: 'replay', answer: { status: row.status ?? 200, headers: row.headers ?? {}, body: row.body ?? null } };
};

/** Keys in PostgreSQL: the primary key makes the claim atomic across replicas; the "in progress" row blocks a second run. */
export class PostgresIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly em: EntityManager,
    private readonly ttlMs = IDEMPOTENCY_KEY_TTL_MS,
    private readonly inProgressTimeoutMs = IDEMPOTENCY_IN_PROGRESS_TIMEOUT_MS,
  ) {}

  async begin(caller: string, key: string, fingerprint: string, now = new Date()): Promise<IdempotencyBegin> {
    const em = this.em.fork();
    // Expired keys go lazily, a few at a time (this one first), so the table stays at about one day of POSTs.
    await nativeQuery(
      em,
      `delete from idempotency_key where (caller, key) in (
         select caller, key from idempotency_key
         where expires_at <= $1 or (caller = $2 and key = $3 and state = 'in-progress' and created_at <= $4)
         limit 100)`,
      [now, caller, key, new Date(now.getTime() - this.inProgressTimeoutMs)],
    );
    const claimed = await nativeQuery(
      em,
      `insert into idempotency_key (caller, key, fingerprint, state, created_at, expires_at)
       values ($1, $2, $3, 'in-progress', $4, $5) on conflict (caller, key) do nothing returning key`,
      [caller, key, fingerprint, now, new Date(now.getTime() + this.ttlMs)],
    );
    if (claimed.length > 0) return { kind: 'started' };
    const [row] = await nativeQuery<Row>(
      em,
      `select fingerprint, state, status, headers, body from idempotency_key where caller = $1 and key = $2`,
      [caller, key],
    );
    // Gone between the two statements (expired, or released by a failed first request): claim it again.
    return row ? classify(row, fingerprint) : this.begin(caller, key, fingerprint, now);
  }

  async complete(caller: string, key: string, answer: StoredAnswer): Promise<void> {
    await nativeQuery(
      this.em.fork(),
      `update idempotency_key set state = 'done', status = $3, headers = $4::jsonb, body = $5::jsonb where caller = $1 and key = $2`,
      [caller, key, answer.status, JSON.stringify(answer.headers), JSON.stringify(answer.body ?? null)],
    );
  }

  async release(caller: string, key: string): Promise<void> {
    await nativeQuery(this.em.fork(), `delete from idempotency_key where caller = $1 and key = $2 and state = 'in-progress'`, [
      caller,
      key,
    ]);
  }
}

/** The same semantics in memory: for tests, and a service with a single replica and no database. */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  private readonly rows = new Map<string, Row & { expiresAt: number; createdAt: number }>();

  constructor(
    private readonly ttlMs = IDEMPOTENCY_KEY_TTL_MS,
    private readonly inProgressTimeoutMs = IDEMPOTENCY_IN_PROGRESS_TIMEOUT_MS,
  ) {}

  async begin(caller: string, key: string, fingerprint: string, now = new Date()): Promise<IdempotencyBegin> {
    const id = JSON.stringify([caller, key]);
    const row = this.rows.get(id);
    const t = now.getTime();
    const stale = row && (row.expiresAt <= t || (row.state === 'in-progress' && row.createdAt <= t - this.inProgressTimeoutMs));
    if (row && !stale) return classify(row, fingerprint);
    this.rows.set(id, {
      fingerprint,
      state: 'in-progress',
      status: null,
      headers: null,
      body: null,
      createdAt: t,
      expiresAt: t + this.ttlMs,
    });
    return { kind: 'started' };
  }

  async complete(caller: string, key: string, answer: StoredAnswer): Promise<void> {
    const row = this.rows.get(JSON.stringify([caller, key]));
    if (row) Object.assign(row, { state: 'done', status: answer.status, headers: answer.headers, body: structuredClone(answer.body) });
  }

  async release(caller: string, key: string): Promise<void> {
    const id = JSON.stringify([caller, key]);
    if (this.rows.get(id)?.state === 'in-progress') this.rows.delete(id);
  }
}

/** Printable ASCII, as the draft allows; a UUID is what clients usually send. */
const KEY = /^[\x21-\x7e]{1,255}$/;
/** The answer headers a replay repeats: where the created resource is, and its version. */
const REPLAYED_HEADERS = ['location', 'etag'] as const;

/** JSON with its object keys sorted: the same body sent with its fields in another order is the same request. */
const canonical = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.map(canonical).join(',')}]`
    : v && typeof v === 'object'
      ? `{${Object.keys(v)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
          .join(',')}}`
      : (JSON.stringify(v) ?? 'null');

const fingerprintOf = (request: FastifyRequest): string =>
  createHash('sha256')
    .update(`${request.method} ${request.url.split('?')[0]}\n${canonical(request.body ?? null)}`)
    .digest('hex');

/** Who the key belongs to: the token's subject within its organisation (a key of one caller never answers another). */
const callerOf = (request: FastifyRequest): string => {
  const p = (request as FastifyRequest & { principal?: { subject?: string; organisation?: string } }).principal;
  return p ? `${p.organisation ?? ''}|${p.subject ?? ''}` : 'anonymous';
};

type KeyedRequest = FastifyRequest & { idempotencyOperation?: string };

/**
 * A stable id of the operation a request with an Idempotency-Key performs: the same for every retry of it (same
 * caller, same key, same request), different for any other caller, key or request. Handlers derive the ids of what they create from it,
 * so a retry that runs again converges on the first run's effect. Undefined when the request carries no key.
 */
export const idempotencyOperationOf = (request: FastifyRequest): string | undefined => (request as KeyedRequest).idempotencyOperation;

/** The route parameter form of `idempotencyOperationOf`. */
export const IdempotencyOperation = createParamDecorator((_data: unknown, ctx: ExecutionContext): string | undefined =>
  idempotencyOperationOf(ctx.switchToHttp().getRequest<FastifyRequest>()),
);

const problem = (slug: string, title: string, status: number, detail: string) =>
  new Problem({ type: problemType(slug), title, status, detail });

/** Applies Idempotency-Key to every POST of the app it is installed in (APP_INTERCEPTOR); other requests pass. */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    @Inject(IDEMPOTENCY_STORE) private readonly store: IdempotencyStore,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const header = request.headers['idempotency-key'];
    if (request.method !== 'POST' || header === undefined) return next.handle();
    // Fixed by the route (@HttpCode), known before the handler answers; POST defaults to 201.
    const status = this.reflector.get<number | undefined>(HTTP_CODE_METADATA, context.getHandler()) ?? 201;
    return from(this.run(request, context.switchToHttp().getResponse<FastifyReply>(), header, status, next));
  }

  private async run(
    request: FastifyRequest,
    reply: FastifyReply,
    header: string | string[],
    status: number,
    next: CallHandler,
  ): Promise<unknown> {
    // The key is not echoed back: it is the caller's input.
    if (Array.isArray(header) || !KEY.test(header)) {
      throw validationProblem([{ name: 'Idempotency-Key', reason: 'one key of 1 to 255 printable ASCII characters, e.g. a UUID' }]);
    }
    const caller = callerOf(request);
    const fingerprint = fingerprintOf(request);
    // The request too, not only its key: a key reused for another request once it has expired names another operation.
    (request as KeyedRequest).idempotencyOperation = createHash('sha256').update(`${caller}\n${header}\n${fingerprint}`).digest('hex');
    const begun = await this.store.begin(caller, header, fingerprint);
    switch (begun.kind) {
      case 'mismatch':
        throw problem(
          'idempotency-key-reused',
          'Idempotency key reused',
          422,
          'This Idempotency-Key was used for a different request; use a new key for a new request.',
        );
      case 'in-progress':
        void reply.header('retry-after', '1');
        throw problem(
          'idempotency-key-in-progress',
          'Request in progress',
          409,
          `A request with this Idempotency-Key is still being processed; retry shortly to get its answer (if its process stopped, the key is free again after ${IDEMPOTENCY_IN_PROGRESS_TIMEOUT_MS / 1000} seconds).`,
        );
      case 'replay':
        return this.replay(reply, begun.answer);
    }
    try {
      const body: unknown = await lastValueFrom(next.handle(), { defaultValue: undefined });
      await this.store.complete(caller, header, { status, headers: this.headersOf(reply), body });
      return body;
    } catch (e) {
      if (e instanceof Problem ? e.retrySafe : unreachableDependency(e) !== undefined) {
        // Nothing was done, or a retry converges on what was: the key is free again (if the store can be reached).
        await this.store.release(caller, header).catch(() => undefined);
      } else {
        // The answer the client got (the filter answers with the same body), kept whatever its status.
        const { instance: _instance, ...body } = problemBodyOf(e);
        await this.store.complete(caller, header, { status: body.status, headers: this.headersOf(reply), body });
      }
      throw e;
    }
  }

  private replay(reply: FastifyReply, answer: StoredAnswer): unknown {
    for (const [name, value] of Object.entries(answer.headers)) void reply.header(name, value);
    void reply.header('idempotent-replayed', 'true');
    if (answer.status >= 400) throw new Problem(answer.body as ProblemBody);
    void reply.status(answer.status);
    return answer.body;
  }

  private headersOf(reply: FastifyReply): Record<string, string> {
    return Object.fromEntries(
      REPLAYED_HEADERS.flatMap((name) => {
        const v = reply.getHeader(name);
        return v === undefined ? [] : [[name, String(v)]];
      }),
    );
  }
}
