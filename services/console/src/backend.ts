import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONSOLE_CONFIG, type ConsoleConfig } from './config';
import type { ConsoleUser } from './session';

export type Service = 'referral' | 'records-transfer' | 'notification' | 'audit';

/** A service answered with an error (problem+json): the page shows what it means for the user. */
export class UpstreamError extends Error {
  constructor(
    readonly service: Service,
    readonly status: number,
    readonly problem: { title?: string; detail?: string; errors?: unknown } | null,
  ) {
    super(`${service} answered ${status}`);
  }
}

/** The service did not answer (down, or slower than UPSTREAM_TIMEOUT_MS). */
export class UpstreamUnavailable extends Error {
  constructor(readonly service: Service) {
    super(`${service} did not answer`);
  }
}

export interface CallOptions {
  readonly method?: 'GET' | 'POST' | 'PUT';
  readonly body?: unknown;
  readonly ifMatch?: string;
  /** From the form submission (idempotencyKey()): a double-click sends the same key, so the service acts once. */
  readonly idempotencyKey?: string;
}

export interface Answer<T> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

/**
 * The backend-for-frontend's only way to the services: the user's bearer token goes in the Authorization header,
 * never in a URL; request bodies (which may hold an NHS number) are not logged.
 */
@Injectable()
export class Backend {
  private readonly log = new Logger('Backend');
  private readonly base: Record<Service, string>;

  constructor(@Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig) {
    this.base = {
      referral: config.REFERRAL_API_URL,
      'records-transfer': config.RECORDS_TRANSFER_API_URL,
      notification: config.NOTIFICATION_API_URL,
      audit: config.AUDIT_API_URL,
    };
  }

  async json<T>(user: ConsoleUser, service: Service, path: string, options: CallOptions = {}): Promise<Answer<T>> {
    const res = await this.fetch(user, service, path, options);
    const text = await res.text();
    const body = text ? (JSON.parse(text) as T) : (undefined as T);
    if (res.status >= 400) throw new UpstreamError(service, res.status, body as UpstreamError['problem']);
    return { status: res.status, body, headers: res.headers };
  }

  /** A download streamed through (the evidence pack). */
  async raw(user: ConsoleUser, service: Service, path: string): Promise<Response> {
    const res = await this.fetch(user, service, path, {});
    if (res.status >= 400) {
      const text = await res.text();
      throw new UpstreamError(service, res.status, text ? (JSON.parse(text) as UpstreamError['problem']) : null);
    }
    return res;
  }

  /** Prometheus text of a service's /metrics (public): the counts the overview shows. */
  async metrics(service: Service): Promise<string> {
    try {
      const res = await fetch(`${this.base[service]}/metrics`, { signal: AbortSignal.timeout(this.config.UPSTREAM_TIMEOUT_MS) });
      return res.ok ? await res.text() : '';
    } catch {
      throw new UpstreamUnavailable(service);
    }
  }

  private async fetch(user: ConsoleUser, service: Service, path: string, options: CallOptions): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${user.token}`, accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.ifMatch) headers['if-match'] = options.ifMatch;
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    try {
      return await fetch(`${this.base[service]}${path}`, {
        method: options.method ?? 'GET',
        headers,
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        signal: AbortSignal.timeout(this.config.UPSTREAM_TIMEOUT_MS),
      });
    } catch (e) {
      // The path may name a referral; it names no patient. The error's message is enough.
      this.log.warn(`${service} did not answer ${options.method ?? 'GET'} ${path.split('?')[0]}: ${(e as Error).message}`);
      throw new UpstreamUnavailable(service);
    }
  }
}

/**
 * The Idempotency-Key of a form submission: every form carries a random submission id, so submitting the same
 * form twice (a double-click, a resent POST) sends the same key and the service acts once. Bound to the session,
 * so one user's submission id is worth nothing in another session.
 */
export const idempotencyKey = (sessionId: string, submission: string, action: string): string =>
  `console-${createHash('sha256').update(`${sessionId}\n${submission}\n${action}`).digest('hex').slice(0, 40)}`;
