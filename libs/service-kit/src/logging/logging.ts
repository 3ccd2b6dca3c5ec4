import { Logger, RequestMethod } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import type { Params } from 'nestjs-pino';

/**
 * Paths never written to logs: credentials and patient identifiers. Request bodies are not logged at all;
 * these catch the places an identifier could still slip in (headers, error objects carrying a payload).
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.nhsNumber',
  '*.patient',
  '*.email',
  '*.phone',
  'patient',
  'nhsNumber',
];

/** Adds the active trace and span ids to every log line, so logs join traces. */
export const traceMixin = (): Record<string, string> => {
  const ctx = trace.getActiveSpan()?.spanContext();
  return ctx ? { trace_id: ctx.traceId, span_id: ctx.spanId } : {};
};

/**
 * `unloggedPosts`: POST routes left out of the HTTP request log (and its middleware), for machine callbacks that
 * arrive once per message and whose handler logs each one with its outcome (GOV.UK Notify's delivery receipts).
 */
export function loggerParams(service: string, level: string, unloggedPosts: readonly string[] = []): Params {
  return {
    forRoutes: [{ path: '*path', method: RequestMethod.ALL }],
    ...(unloggedPosts.length > 0 ? { exclude: unloggedPosts.map((path) => ({ path, method: RequestMethod.POST })) } : {}),
    pinoHttp: {
      level,
      base: { service },
      messageKey: 'msg',
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      formatters: { level: (label: string) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      mixin: traceMixin,
      autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') },
      serializers: {
        // Path only: query strings can hold search terms about patients.
        req: (req: { id?: unknown; method?: string; url?: string }) => ({
          id: req.id,
          method: req.method,
          path: (req.url ?? '').split('?')[0],
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
    },
  };
}

/** A log function for the messaging library's components, routed to Nest's logger (pino). */
export const kafkaLog = (context: string) => {
  const logger = new Logger(context);
  return (level: 'warn' | 'error' | 'info', message: string, extra: Record<string, unknown>): void => {
    if (level === 'info') logger.log(extra, message);
    else logger[level](extra, message);
  };
};
