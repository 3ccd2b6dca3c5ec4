import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import { Problem, problemType, type ProblemBody } from './problem';
import { zodIssuesToParams } from './zod-body';

const PROBLEM_JSON = 'application/problem+json';

/** Answers every HTTP error as RFC 9457 problem+json; unexpected errors are logged and answered without internals. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetailsFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const body = problemBodyOf(exception);
    body.instance ??= request.url.split('?')[0];
    if (body.status >= 500) {
      this.logger.error({ err: exception, status: body.status }, 'request failed');
    }
    if (exception instanceof Problem) for (const [name, value] of Object.entries(exception.headers)) void reply.header(name, value);
    void reply.status(body.status).header('content-type', PROBLEM_JSON).send(body);
  }
}

/** The problem an error is answered with (the Idempotency-Key store keeps exactly this answer). */
export function problemBodyOf(exception: unknown): ProblemBody {
  if (exception instanceof Problem) return { ...exception.body };
  if (exception instanceof ZodError) {
    return {
      type: problemType('validation'),
      title: 'Invalid request',
      status: 400,
      detail: 'The request is not valid.',
      'invalid-params': zodIssuesToParams(exception),
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const res = exception.getResponse();
    const detail = typeof res === 'string' ? res : ((res as { message?: unknown }).message ?? exception.message);
    return {
      type: status === 404 ? problemType('not-found') : `about:blank`,
      title: exception.name.replace(/Exception$/, '').replace(/([a-z])([A-Z])/g, '$1 $2') || 'Error',
      status,
      detail: Array.isArray(detail) ? detail.join('; ') : String(detail),
    };
  }
  // Fastify raises its own errors (e.g. malformed JSON body, body too large) with a statusCode.
  const fe = exception as { statusCode?: number; code?: string; message?: string };
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { type: problemType('bad-request'), title: 'Bad request', status: fe.statusCode, detail: fe.message ?? 'Bad request' };
  }
  return { type: problemType('internal'), title: 'Internal error', status: 500, detail: 'An unexpected error occurred.' };
}
