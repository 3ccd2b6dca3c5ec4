import { isGrpcServiceError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { unavailableProblem, type Problem } from './problem';

/** What a client should wait before retrying a request that met a dependency that could not be reached. */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 5;

export type Dependency = 'database' | 'temporal' | 'referral-service';

/**
 * Another service of the network could not be reached, or answered that it cannot serve right now (a connection
 * refused or timed out, 502/503/504): the moment's failure, not the request's. Consumers retry the record until the
 * service is back, never dead-letter it; HTTP answers 503 with Retry-After.
 */
export class DependencyUnavailableError extends Error {
  override readonly name = 'DependencyUnavailableError';
  constructor(
    readonly dependency: Dependency,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** gRPC status codes (grpc/status.proto) of a call that did not reach the server, or got no answer in time. */
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

/** Socket errors of a connection that could not be made or was lost (Node's `code`). */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * SQLSTATEs of a server that cannot serve: class 08 (connection exception), 57P01–57P03 (shutting down, crashed,
 * starting up) and 53300 (no connection slot).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|53300)$/;

/**
 * The pg driver's own connection failures carry no code, only these messages (pg and pg-pool, 8.x): a connect that
 * timed out (connectionTimeoutMillis) and a connection lost under a query.
 */
const PG_CONNECTION_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated due to connection timeout',
  'Connection terminated unexpectedly',
  'Client has encountered a connection error and is not queryable',
];

/** The error, its causes and (for an AggregateError, e.g. both addresses of localhost refused) its parts. */
function* chain(e: unknown, depth = 0): Generator<Record<string, unknown>> {
  if (!e || typeof e !== 'object' || depth > 5) return;
  const err = e as Record<string, unknown>;
  yield err;
  yield* chain(err['cause'], depth + 1);
  if (Array.isArray(err['errors'])) for (const part of err['errors']) yield* chain(part, depth + 1);
}

const isDatabaseConnectionError = (err: Record<string, unknown>): boolean => {
  const code = err['code'];
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  const message = err['message'];
  return typeof message === 'string' && PG_CONNECTION_MESSAGES.some((m) => message.startsWith(m));
};

const isTemporalUnreachable = (err: Record<string, unknown>): boolean =>
  err instanceof WorkflowUpdateRPCTimeoutOrCancelledError ||
  (isGrpcServiceError(err) && (err.code === GRPC_UNAVAILABLE || err.code === GRPC_DEADLINE_EXCEEDED));

/**
 * Which dependency an error says could not be reached (the database, Temporal), or undefined when it says something
 * else. Such a failure is the moment's, not the request's: the answer is 503 with Retry-After, never 500.
 */
export function unreachableDependency(e: unknown): Dependency | undefined {
  for (const err of chain(e)) {
    if (err instanceof DependencyUnavailableError) return err.dependency;
    if (isTemporalUnreachable(err)) return 'temporal';
    if (isDatabaseConnectionError(err)) return 'database';
  }
  return undefined;
}

const DEPENDENCY_NAMES: Record<Dependency, string> = {
  database: 'database',
  temporal: 'workflow engine',
  'referral-service': 'referral service',
};

/**
 * The 503 answer for a request that met an unreachable dependency. Safe to run again under the same
 * Idempotency-Key: a transaction the database could not take did not happen, and what reached Temporal converges
 * (workflow and update ids derive from the key).
 */
export const dependencyUnavailableProblem = (dependency: Dependency, detail?: string): Problem =>
  unavailableProblem(detail ?? `The service cannot reach its ${DEPENDENCY_NAMES[dependency]} right now.`, {
    retryAfterSeconds: DEPENDENCY_RETRY_AFTER_SECONDS,
    retrySafe: true,
  });
