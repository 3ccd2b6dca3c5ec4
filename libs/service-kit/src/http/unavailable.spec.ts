import { ServiceError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { DEPENDENCY_RETRY_AFTER_SECONDS, dependencyUnavailableProblem, unreachableDependency } from './unavailable';

const withCode = (message: string, code: string | number) => Object.assign(new Error(message), { code });
/** What @grpc/grpc-js rejects with: an Error with a numeric status code, details and metadata. */
const grpcError = (code: number) => Object.assign(new Error(`${code} status`), { code, details: 'x', metadata: {} });

describe('unreachableDependency', () => {
  it.each([
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['both addresses of localhost refused', new AggregateError([withCode('refused', 'ECONNREFUSED')], 'all failed')],
    ['a reset connection', withCode('read ECONNRESET', 'ECONNRESET')],
    ['a server shutting down (57P01)', withCode('terminating connection due to administrator command', '57P01')],
    ['a server starting up (57P03)', withCode('the database system is starting up', '57P03')],
    ['no connection slot (53300)', withCode('too many clients already', '53300')],
    ['a connection exception (08006)', withCode('connection failure', '08006')],
    ['a connect that timed out', new Error('timeout exceeded when trying to connect')],
    ['a connection lost under a query', new Error('Connection terminated unexpectedly')],
    ['the ORM wrapping any of them', new Error('driver', { cause: withCode('connect ECONNREFUSED', 'ECONNREFUSED') })],
  ])('says the database for %s', (_what, e) => {
    expect(unreachableDependency(e)).toBe('database');
  });

  it.each([
    ['an unavailable server', new ServiceError('Failed to start Workflow', { cause: grpcError(14) })],
    ['a call past its deadline', new ServiceError('Failed to start Workflow', { cause: grpcError(4) })],
    ['an update that timed out', new WorkflowUpdateRPCTimeoutOrCancelledError('timed out', { cause: grpcError(4) })],
  ])('says Temporal for %s', (_what, e) => {
    expect(unreachableDependency(e)).toBe('temporal');
  });

  it.each([
    ['a unique violation', withCode('duplicate key value', '23505')],
    ['a statement timeout', withCode('canceling statement due to statement timeout', '57014')],
    ['a Temporal refusal', new ServiceError('invalid argument', { cause: grpcError(3) })],
    ['a plain error', new Error('boom')],
    ['not an error at all', 'boom'],
  ])('says nothing for %s', (_what, e) => {
    expect(unreachableDependency(e)).toBeUndefined();
  });
});

describe('dependencyUnavailableProblem', () => {
  it('is a 503 with Retry-After', () => {
    const p = dependencyUnavailableProblem('database');
    expect(p.status).toBe(503);
    expect(p.headers).toEqual({ 'retry-after': String(DEPENDENCY_RETRY_AFTER_SECONDS) });
    expect(p.body.detail).toBe('The service cannot reach its database right now.');
  });
});
