import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { ensureDevIssuer, jwksPath } from './dev-issuer';
import { serviceTokenSource } from './service-token';

describe("a service's own token (role system)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'sonet-service-token-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const base = { serviceName: 'notification', SERVICE_ORGANISATION: 'X26', AUTH_JWKS_FILE: jwksPath(dir) };

  it('is read from SERVICE_TOKEN_FILE, and read again when the platform rewrites the file', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'first-token\n');
    const token = serviceTokenSource({ ...base, NODE_ENV: 'production', SERVICE_TOKEN_FILE: file });
    expect(await token()).toBe('first-token');
    writeFileSync(file, 'second-token');
    utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    expect(await token()).toBe('second-token');
  });

  it('is required as a file in production', () => {
    expect(() => serviceTokenSource({ ...base, NODE_ENV: 'production' })).toThrow('SERVICE_TOKEN_FILE is required in production');
  });

  it('is signed locally with the development issuer beside AUTH_JWKS_FILE, subject = the service, and reused while fresh', async () => {
    await ensureDevIssuer(dir);
    const token = serviceTokenSource({ ...base, NODE_ENV: 'development' });
    const first = await token();
    expect(decodeJwt(first)).toMatchObject({ sub: 'notification', role: 'system', org: 'X26' });
    expect(await token()).toBe(first);
  });
});
