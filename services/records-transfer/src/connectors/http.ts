import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import type { ConnectorAuth, EndpointConfig } from './config';

/** A failure worth retrying: the server or the network may recover (5xx, 408, 429, resets, time-outs). */
export class TransientHttpError extends Error {
  override name = 'TransientHttpError';
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A failure retrying cannot fix (4xx other than 408/429, a malformed answer). */
export class PermanentHttpError extends Error {
  override name = 'PermanentHttpError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export const authHeader = (auth: ConnectorAuth): Record<string, string> =>
  auth.type === 'basic'
    ? { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` }
    : auth.type === 'bearer'
      ? { authorization: `Bearer ${auth.token}` }
      : {};

export interface RequestOptions {
  readonly method?: Dispatcher.HttpMethod;
  readonly headers?: Record<string, string>;
  readonly body?: string | Readable | null;
  /** Cancels the request (the activity's cancellation). */
  readonly signal?: AbortSignal | undefined;
  /** Statuses that are answers, not errors (e.g. 404 when asking whether something exists). */
  readonly accept?: readonly number[];
}

export interface EndpointResponse {
  readonly status: number;
  header(name: string): string | undefined;
  /** The body as a stream (read it, or `dump()` it, or the connection is not reused). */
  readonly body: Dispatcher.ResponseData['body'];
}

const isTransientStatus = (s: number) => s >= 500 || s === 408 || s === 429;

/**
 * One hospital endpoint: its base URL, credentials and a connection pool whose time limits are idle limits (no
 * header, or no body byte, for `timeoutMs`), so a long stream of imaging is never cut for being long.
 */
export class Endpoint {
  private readonly agent: Agent;

  constructor(readonly config: EndpointConfig) {
    this.agent = new Agent({
      headersTimeout: config.timeoutMs,
      bodyTimeout: config.timeoutMs,
      connectTimeout: Math.min(config.timeoutMs, 10_000),
      keepAliveTimeout: 4_000,
    });
  }

  /**
   * One request. The URL may be relative to the base. Errors are classified: transient ones are retried by the
   * caller's retry policy, permanent ones are not. Messages name the method, the path and the status, never a body
   * or a query (they may hold patient data).
   */
  async fetch(url: string, options: RequestOptions = {}): Promise<EndpointResponse> {
    const target = url.startsWith('http://') || url.startsWith('https://') ? url : `${this.config.baseUrl}/${url.replace(/^\/+/, '')}`;
    const method = options.method ?? 'GET';
    const what = `${method} ${pathOf(target)}`;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(target, {
        method,
        headers: { ...authHeader(this.config.auth), ...options.headers },
        ...(options.body != null ? { body: options.body } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        dispatcher: this.agent,
      });
    } catch (e) {
      if (options.signal?.aborted) throw e;
      throw new TransientHttpError(`${what}: ${describeNetworkError(e)}`, undefined, { cause: e });
    }
    const answer: EndpointResponse = {
      status: res.statusCode,
      header: (name) => {
        const v = res.headers[name.toLowerCase()];
        return Array.isArray(v) ? v[0] : v;
      },
      body: res.body,
    };
    if ((res.statusCode >= 200 && res.statusCode < 300) || options.accept?.includes(res.statusCode)) return answer;
    await res.body.dump().catch(() => undefined);
    const message = `${what}: HTTP ${res.statusCode}`;
    throw isTransientStatus(res.statusCode)
      ? new TransientHttpError(message, res.statusCode)
      : new PermanentHttpError(message, res.statusCode);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** The path of a URL without its query (queries carry NHS numbers). */
export const pathOf = (url: string): string => {
  try {
    return new URL(url).pathname;
  } catch {
    return '(invalid url)';
  }
};

export function describeNetworkError(e: unknown): string {
  const err = e as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.code === 'UND_ERR_HEADERS_TIMEOUT' || err?.code === 'UND_ERR_BODY_TIMEOUT') return 'timed out';
  return err?.code ?? err?.cause?.code ?? err?.cause?.message ?? err?.message ?? 'network error';
}

/** Reads a JSON answer, refusing bodies that are not JSON. Read errors (a cut connection) are transient. */
export async function jsonOf<T>(res: EndpointResponse, what: string): Promise<T> {
  let text: string;
  try {
    text = await res.body.text();
  } catch (e) {
    throw new TransientHttpError(`${what}: the answer was cut off (${describeNetworkError(e)})`, res.status, { cause: e });
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new PermanentHttpError(`${what}: the answer is not JSON`, res.status);
  }
}
