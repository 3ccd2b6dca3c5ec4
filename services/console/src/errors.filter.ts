import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { UpstreamError, UpstreamUnavailable } from './backend';
import { BadInput, PageNotFound, SignInFailed, SignInRequired } from './session';
import type { Ui } from './ui';

/**
 * Every error becomes a page a person can act on: sign in, "page not found" (also for another organisation's
 * referral: the services answer 404 and so does the console), "this referral has changed" (a stale ETag),
 * the input problems, or "the service did not answer".
 */
@Catch()
export class ErrorPages implements ExceptionFilter {
  private readonly log = new Logger('ErrorPages');

  constructor(private readonly ui: Ui) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (error instanceof SignInRequired) {
      void reply.redirect('/sign-in', 303);
      return;
    }
    const [status, template, context] = this.describe(error);
    if (status >= 500) this.log.error(`${request.method} ${request.url.split('?')[0]}: ${(error as Error)?.stack ?? String(error)}`);
    void this.ui.page(request, reply, template, context, status);
  }

  private describe(error: unknown): [number, string, Record<string, unknown>] {
    if (error instanceof PageNotFound) return [404, 'errors/not-found.njk', {}];
    if (error instanceof SignInFailed) return [error.status, 'sign-in/failed.njk', { status: error.status, reason: error.reason }];
    if (error instanceof BadInput) return [400, 'errors/bad-input.njk', { problems: error.problems }];
    if (error instanceof UpstreamUnavailable) return [503, 'errors/unavailable.njk', { service: error.service }];
    if (error instanceof UpstreamError) {
      if (error.status === 404 || error.status === 403) return [404, 'errors/not-found.njk', {}];
      if (error.status === 412) return [409, 'errors/changed.njk', {}];
      if (error.status === 409) return [409, 'errors/not-allowed.njk', { detail: error.problem?.detail }];
      if (error.status === 401) return [401, 'errors/signed-out.njk', {}];
      if (error.status === 400 || error.status === 422)
        return [400, 'errors/bad-input.njk', { problems: problemsOf(error.problem), detail: error.problem?.detail }];
      return [502, 'errors/unavailable.njk', { service: error.service }];
    }
    if (error instanceof HttpException) {
      const status = error.getStatus();
      if (status === 404) return [404, 'errors/not-found.njk', {}];
      // The console's only 403 is the CSRF check (a role's missing page is a 404): Nest hands it over as an HttpException.
      if (status === 403) return [403, 'errors/forbidden.njk', { csrf: true }];
      if (status < 500) return [status, 'errors/bad-input.njk', { problems: [error.message] }];
    }
    const code = (error as { code?: string; statusCode?: number })?.code;
    if (code?.startsWith('FST_CSRF')) return [403, 'errors/forbidden.njk', { csrf: true }];
    const statusCode = (error as { statusCode?: number })?.statusCode;
    if (statusCode && statusCode >= 400 && statusCode < 500)
      return [statusCode, 'errors/bad-input.njk', { problems: ['The request was not valid.'] }];
    return [500, 'errors/unavailable.njk', {}];
  }
}

const problemsOf = (problem: UpstreamError['problem']): string[] => {
  const params = (problem as { 'invalid-params'?: { name?: string; reason?: string }[] } | null)?.['invalid-params'];
  if (Array.isArray(params)) return params.map((p) => [p.name, p.reason].filter(Boolean).join(': '));
  const errors = problem?.errors;
  if (Array.isArray(errors))
    return errors.map((e: { pointer?: string; path?: string; detail?: string; message?: string }) =>
      [e.pointer ?? e.path, e.detail ?? e.message].filter(Boolean).join(': '),
    );
  return problem?.detail ? [problem.detail] : ['The request was not valid.'];
};
