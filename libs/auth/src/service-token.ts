import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { mintDevToken } from './dev-issuer';

export interface ServiceTokenSettings {
  /** The service's name: the subject of the token it signs for itself locally. */
  readonly serviceName: string;
  readonly NODE_ENV: string;
  readonly SERVICE_TOKEN_FILE?: string | undefined;
  readonly SERVICE_ORGANISATION: string;
  /** The local development issuer's JWKS file: its private key lies beside it. */
  readonly AUTH_JWKS_FILE: string;
}

const DEV_TOKEN_SECONDS = 3600;
/** A self-signed token is renewed this long before it expires. */
const RENEW_BEFORE_MS = 5 * 60_000;

/**
 * This service's own bearer token (role `system`), for calls to other services of the network. From
 * SERVICE_TOKEN_FILE when set (re-read whenever the file changes: the platform refreshes it); otherwise, outside
 * production only, signed with the local development issuer's key and renewed before it expires.
 */
export function serviceTokenSource(settings: ServiceTokenSettings): () => Promise<string> {
  const file = settings.SERVICE_TOKEN_FILE;
  if (file) {
    let cached: { mtimeMs: number; token: string } | undefined;
    return async () => {
      const { mtimeMs } = await stat(file);
      if (cached?.mtimeMs !== mtimeMs) cached = { mtimeMs, token: (await readFile(file, 'utf8')).trim() };
      return cached.token;
    };
  }
  if (settings.NODE_ENV === 'production') throw new Error('SERVICE_TOKEN_FILE is required in production');
  let current: { token: string; renewAt: number } | undefined;
  return async () => {
    if (!current || Date.now() >= current.renewAt) {
      const token = await mintDevToken(dirname(settings.AUTH_JWKS_FILE), {
        role: 'system',
        organisation: settings.SERVICE_ORGANISATION,
        subject: settings.serviceName,
        ttlSeconds: DEV_TOKEN_SECONDS,
      });
      current = { token, renewAt: Date.now() + DEV_TOKEN_SECONDS * 1000 - RENEW_BEFORE_MS };
    }
    return current.token;
  };
}
