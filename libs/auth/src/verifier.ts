import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { principalFromClaims, tokenClaimsSchema, type Principal } from './principal';

export interface VerifierSettings {
  readonly issuer: string;
  readonly audience: string;
  /** A JWKS endpoint (production identity provider)... */
  readonly jwksUrl?: string;
  /** ...or a JWKS file (the local development issuer). */
  readonly jwksFile?: string;
}

export class AuthenticationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthenticationError';
  }
}

/** Only asymmetric algorithms; `none` and HMAC are never accepted. */
const ALGORITHMS = ['EdDSA', 'RS256'];

/** Verifies bearer tokens (signature against the JWKS, issuer, audience, expiry) and reads the caller from them. */
export class TokenVerifier {
  private readonly keys: JWTVerifyGetKey;

  constructor(private readonly settings: VerifierSettings) {
    if (settings.jwksUrl) {
      this.keys = createRemoteJWKSet(new URL(settings.jwksUrl), { cooldownDuration: 30_000, cacheMaxAge: 600_000 });
    } else if (settings.jwksFile) {
      this.keys = createLocalJWKSet(JSON.parse(readFileSync(settings.jwksFile, 'utf8')) as JSONWebKeySet);
    } else {
      throw new Error('TokenVerifier needs a JWKS URL or file');
    }
  }

  async verify(token: string): Promise<Principal> {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: ALGORITHMS,
        clockTolerance: 30,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (e) {
      if (e instanceof errors.JWTExpired) throw new AuthenticationError('the token has expired');
      if (e instanceof errors.JOSEError) throw new AuthenticationError(`the token is not valid (${e.code})`);
      throw e;
    }
    const claims = tokenClaimsSchema.safeParse(payload);
    if (!claims.success) {
      throw new AuthenticationError(
        `the token lacks required claims: ${claims.error.issues.map((i) => i.path.join('.') || i.message).join(', ')}`,
      );
    }
    return principalFromClaims(claims.data);
  }
}

/** Verifier settings from a service config built on baseConfigSchema. */
export const verifierSettingsFrom = (config: {
  AUTH_ISSUER: string;
  AUTH_AUDIENCE: string;
  AUTH_JWKS_URL?: string | undefined;
  AUTH_JWKS_FILE: string;
}): VerifierSettings => ({
  issuer: config.AUTH_ISSUER,
  audience: config.AUTH_AUDIENCE,
  ...(config.AUTH_JWKS_URL ? { jwksUrl: config.AUTH_JWKS_URL } : { jwksFile: config.AUTH_JWKS_FILE }),
});
