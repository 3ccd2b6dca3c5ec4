import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import type { Role } from './principal';

/**
 * The local development issuer: an Ed25519 key pair kept under .local/state/auth, whose public half is the
 * JWKS the services verify against. Production points the services at the identity provider's JWKS instead.
 */
export const DEV_ISSUER = 'https://dev-issuer.sonet.invalid';
export const DEV_AUDIENCE = 'sonet';

const privatePath = (dir: string) => join(dir, 'dev-issuer.private.jwk.json');
export const jwksPath = (dir: string) => join(dir, 'jwks.json');

/** Creates the key pair once; later calls keep it (tokens minted earlier stay valid). */
export async function ensureDevIssuer(dir: string): Promise<void> {
  if (existsSync(privatePath(dir)) && existsSync(jwksPath(dir))) return;
  mkdirSync(dir, { recursive: true });
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const kid = randomUUID();
  const priv = { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA', use: 'sig' };
  const pub = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };
  writeFileSync(privatePath(dir), JSON.stringify(priv));
  chmodSync(privatePath(dir), 0o600);
  writeFileSync(jwksPath(dir), JSON.stringify({ keys: [pub] }, null, 2));
}

export interface DevTokenRequest {
  readonly role: Role;
  readonly organisation: string;
  readonly nhsNumber?: string;
  readonly subject?: string;
  /** Lifetime in seconds (default 8 hours: a working day). */
  readonly ttlSeconds?: number;
}

/** Signs a token with the development issuer's key. */
export async function mintDevToken(dir: string, req: DevTokenRequest): Promise<string> {
  await ensureDevIssuer(dir);
  const jwk = JSON.parse(readFileSync(privatePath(dir), 'utf8')) as JWK & { kid: string };
  const key = await importJWK(jwk, 'EdDSA');
  return new SignJWT({ role: req.role, org: req.organisation, ...(req.nhsNumber ? { nhs: req.nhsNumber } : {}) })
    .setProtectedHeader({ alg: 'EdDSA', kid: jwk.kid, typ: 'JWT' })
    .setIssuer(DEV_ISSUER)
    .setAudience(DEV_AUDIENCE)
    .setSubject(req.subject ?? `${req.role}@${req.organisation}`)
    .setIssuedAt()
    .setExpirationTime(`${req.ttlSeconds ?? 8 * 3600}s`)
    .setJti(randomUUID())
    .sign(key);
}
