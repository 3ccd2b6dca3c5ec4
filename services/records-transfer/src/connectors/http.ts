import type { ConnectorAuth, EndpointConfig } from './config';

/** A failure worth retrying: the server or the network may recover (5xx, 408, 429, resets, time-outs). */
export class TransientHttpError extends Error {
  override name = 'TransientHttpError';
  constructor(message: string, readonly status?: number, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A failure retrying cannot fix (4xx other than 408/429, a malformed answer). */
export class PermanentHttpError extends Error {
  override name = 'PermanentHttpError';
  constructor(message: string, readonly status?: number) {
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
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | ReadableStream<Uint8Array> | null;
  /** Cancels the request (the activity's cancellation). */
  readonly signal?: AbortSignal | undefined;
  /** Statuses that are answers, not errors (e.g. 404 when asking whether something exists). */
  readonly accept?: readonly number[];
}

const isTransientStatus = (s: number) => s >= 500 || s === 408 || s === 429;

/**
 * One request to a hospital endpoint with its credentials and time limit. The URL may be relative to the base.
 * Errors are classified: transient ones are retried by the caller's retry policy, permanent ones are not.
 * Error messages name the method, the path and the status, never a body (it may hold patient data).
 */
export async function endpointFetch(endpoint: EndpointConfig, url: string, options: RequestOptions = {}): Promise<Response> {
  const target = url.startsWith('http://') || url.startsWith('https://') ? url : `${endpoint.baseUrl}/${url.replace(/^\/+/, '')}`;
  const timeout = AbortSignal.timeout(endpoint.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const method = options.method ?? 'GET';
  const what = `${method} ${pathOf(target)}`;
  let res: Response;
  try {
    res = await fetch(target, {
      method,
      headers: { ...authHeader(endpoint.auth), ...options.headers },
      ...(options.body !== undefined ? { body: options.body, duplex: 'half' } : {}),
      signal,
      redirect: 'error',
    } as RequestInit);
  } catch (e) {
    if (options.signal?.aborted) throw e;
    throw new TransientHttpError(`${what}: ${describeNetworkError(e)}`, undefined, { cause: e });
  }
  if (res.ok || options.accept?.includes(res.status)) return res;
  await res.body?.cancel().catch(() => undefined);
  const message = `${what}: HTTP ${res.status}`;
  throw isTransientStatus(res.status) ? new TransientHttpError(message, res.status) : new PermanentHttpError(message, res.status);
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
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError') return 'timed out';
  return err?.cause?.code ?? err?.cause?.message ?? err?.message ?? 'network error';
}

/** Reads a JSON answer, refusing bodies that are not JSON. */
export async function jsonOf<T>(res: Response, what: string): Promise<T> {
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new PermanentHttpError(`${what}: the answer is not JSON`, res.status);
  }
}
