import { BadRequestException, Logger, NotFoundException, type ArgumentsHost } from '@nestjs/common';
import { z } from 'zod';
import { ProblemDetailsFilter } from './problem.filter';
import { conflictProblem, unavailableProblem, validationProblem } from './problem';

interface Sent {
  status?: number;
  headers: Record<string, string>;
  body?: Record<string, unknown>;
}

/** An HTTP ArgumentsHost over a recording Fastify-like reply. */
const httpHost = (url: string) => {
  const sent: Sent = { headers: {} };
  const reply = {
    status(code: number) {
      sent.status = code;
      return reply;
    },
    header(name: string, value: string) {
      sent.headers[name] = value;
      return reply;
    },
    send(body: Record<string, unknown>) {
      sent.body = body;
      return reply;
    },
  };
  const host = {
    getType: () => 'http',
    switchToHttp: () => ({ getResponse: () => reply, getRequest: () => ({ url }) }),
  } as unknown as ArgumentsHost;
  return { host, sent };
};

describe('ProblemDetailsFilter', () => {
  const filter = new ProblemDetailsFilter();
  let loggedErrors: unknown[][];

  beforeEach(() => {
    loggedErrors = [];
    jest.spyOn(Logger.prototype, 'error').mockImplementation((...args: unknown[]) => void loggedErrors.push(args));
  });
  afterEach(() => jest.restoreAllMocks());

  it('answers a Problem with its body as application/problem+json, with the path (without query) as instance', () => {
    const { host, sent } = httpHost('/referrals/123?nhs=9434765919');
    filter.catch(conflictProblem('already accepted', { state: 'accepted' }), host);
    expect(sent.status).toBe(409);
    expect(sent.headers['content-type']).toBe('application/problem+json');
    expect(sent.body).toEqual({
      type: 'urn:sonet:problem:conflict',
      title: 'Conflict',
      status: 409,
      detail: 'already accepted',
      state: 'accepted',
      instance: '/referrals/123',
    });
  });

  it("sends a problem's headers (Retry-After) with it, not in its body", () => {
    const { host, sent } = httpHost('/referrals/123/gp-decision');
    filter.catch(unavailableProblem('not started yet', { retryAfterSeconds: 2, extensions: { currentState: 'requested' } }), host);
    expect(sent.status).toBe(503);
    expect(sent.headers['retry-after']).toBe('2');
    expect(sent.body).toEqual({
      type: 'urn:sonet:problem:unavailable',
      title: 'Service unavailable',
      status: 503,
      detail: 'not started yet',
      currentState: 'requested',
      instance: '/referrals/123/gp-decision',
    });
  });

  it('keeps the invalid-params of a validation problem', () => {
    const { host, sent } = httpHost('/referrals');
    filter.catch(validationProblem([{ name: 'nhsNumber', reason: 'not valid' }]), host);
    expect(sent.status).toBe(400);
    expect(sent.body?.['invalid-params']).toEqual([{ name: 'nhsNumber', reason: 'not valid' }]);
  });

  it('answers an uncaught ZodError as a 400 validation problem without the submitted values', () => {
    const r = z.object({ nhsNumber: z.string().length(10) }).safeParse({ nhsNumber: 'SECRET' });
    const { host, sent } = httpHost('/x');
    filter.catch(r.error, host);
    expect(sent.status).toBe(400);
    expect(sent.body).toMatchObject({ type: 'urn:sonet:problem:validation', 'invalid-params': [{ name: 'nhsNumber' }] });
    expect(JSON.stringify(sent.body)).not.toContain('SECRET');
  });

  it('maps Nest HTTP exceptions, 404 to the not-found type', () => {
    const a = httpHost('/nope');
    filter.catch(new NotFoundException('no such referral'), a.host);
    expect(a.sent.body).toMatchObject({ type: 'urn:sonet:problem:not-found', status: 404, detail: 'no such referral', title: 'Not Found' });

    const b = httpHost('/x');
    filter.catch(new BadRequestException(['a is bad', 'b is bad']), b.host);
    expect(b.sent.body).toMatchObject({ type: 'about:blank', status: 400, detail: 'a is bad; b is bad' });
  });

  it('answers a Fastify client error (e.g. body too large) with its status', () => {
    const { host, sent } = httpHost('/x');
    filter.catch(Object.assign(new Error('Request body is too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' }), host);
    expect(sent.body).toMatchObject({ type: 'urn:sonet:problem:bad-request', status: 413, detail: 'Request body is too large' });
  });

  it('answers an unexpected error with a 500 that reveals nothing, and logs it', () => {
    const { host, sent } = httpHost('/x');
    const boom = new Error('connection to 10.0.0.5 refused for user admin');
    filter.catch(boom, host);
    expect(sent.status).toBe(500);
    expect(sent.body).toEqual({
      type: 'urn:sonet:problem:internal',
      title: 'Internal error',
      status: 500,
      detail: 'An unexpected error occurred.',
      instance: '/x',
    });
    expect(loggedErrors).toHaveLength(1);
    expect(JSON.stringify(loggedErrors[0]![0] ?? {})).toContain('500');
  });

  it('answers a database that cannot be reached with 503 and Retry-After, not 500', () => {
    const warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const { host, sent } = httpHost('/v1/referrals');
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    filter.catch(new Error('wrapped by the ORM', { cause: refused }), host);
    expect(sent.status).toBe(503);
    expect(sent.headers['retry-after']).toBe('5');
    expect(sent.headers['content-type']).toBe('application/problem+json');
    expect(sent.body).toMatchObject({ type: 'urn:sonet:problem:unavailable', status: 503, instance: '/v1/referrals' });
    expect(loggedErrors).toEqual([]);
    expect(warned).toHaveBeenCalledTimes(1);
  });

  it('does not log client errors', () => {
    filter.catch(new NotFoundException(), httpHost('/x').host);
    expect(loggedErrors).toEqual([]);
  });

  it('rethrows outside HTTP (e.g. a Kafka consumer) instead of answering', () => {
    const boom = new Error('boom');
    const host = { getType: () => 'rpc' } as unknown as ArgumentsHost;
    expect(() => filter.catch(boom, host)).toThrow(boom);
  });
});
