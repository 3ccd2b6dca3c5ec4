import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { DEV_AUDIENCE, DEV_ISSUER, ensureDevIssuer, jwksPath, mintDevToken } from './dev-issuer';
import { AuthenticationError, TokenVerifier } from './verifier';

describe('verifying bearer tokens', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sonet-auth-'));
  let verifier: TokenVerifier;

  beforeAll(async () => {
    await ensureDevIssuer(dir);
    verifier = new TokenVerifier({ issuer: DEV_ISSUER, audience: DEV_AUDIENCE, jwksFile: jwksPath(dir) });
  });

  const rejects = async (token: string, message: RegExp) => {
    const err = await verifier.verify(token).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as Error).message).toMatch(message);
  };

  it('reads the role, organisation and subject from a valid token', async () => {
    const token = await mintDevToken(dir, { role: 'gp', organisation: 'a81001', subject: 'dr-who' });
    await expect(verifier.verify(token)).resolves.toEqual({ subject: 'dr-who', role: 'gp', organisation: 'A81001' });
  });

  it('gives a patient their normalised NHS number', async () => {
    const token = await mintDevToken(dir, { role: 'patient', organisation: 'A81001', nhsNumber: '943 476 5919' });
    await expect(verifier.verify(token)).resolves.toMatchObject({ role: 'patient', nhsNumber: '9434765919' });
  });

  it('refuses a patient token without an NHS number', async () => {
    await rejects(await mintDevToken(dir, { role: 'patient', organisation: 'A81001' }), /nhs/);
  });

  it('refuses an expired token', async () => {
    await rejects(await mintDevToken(dir, { role: 'gp', organisation: 'A81001', ttlSeconds: -120 }), /expired/);
  });

  it('refuses a token signed by another key', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const forged = await new SignJWT({ role: 'auditor', org: 'X26' })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer(DEV_ISSUER)
      .setAudience(DEV_AUDIENCE)
      .setSubject('mallory')
      .setExpirationTime('1h')
      .sign(privateKey);
    await rejects(forged, /not valid/);
  });

  it('refuses an unsigned token (alg none)', async () => {
    const unsigned = new UnsecuredJWT({ role: 'auditor', org: 'X26' })
      .setIssuer(DEV_ISSUER)
      .setAudience(DEV_AUDIENCE)
      .setSubject('m')
      .setExpirationTime('1h')
      .encode();
    await rejects(unsigned, /not valid/);
  });

  it('refuses a token for another audience or from another issuer', async () => {
    const other = new TokenVerifier({ issuer: 'https://elsewhere.invalid', audience: DEV_AUDIENCE, jwksFile: jwksPath(dir) });
    const token = await mintDevToken(dir, { role: 'gp', organisation: 'A81001' });
    await expect(other.verify(token)).rejects.toThrow(AuthenticationError);
  });

  it("refuses a token whose role is not one of the network's", async () => {
    const { privateKey } = await import('jose').then(async (j) => {
      const jwk = JSON.parse(require('node:fs').readFileSync(join(dir, 'dev-issuer.private.jwk.json'), 'utf8')) as { kid: string };
      return { privateKey: await j.importJWK(jwk, 'EdDSA'), kid: jwk.kid };
    });
    const token = await new SignJWT({ role: 'superuser', org: 'A81001' })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer(DEV_ISSUER)
      .setAudience(DEV_AUDIENCE)
      .setSubject('x')
      .setExpirationTime('1h')
      .sign(privateKey);
    await rejects(token, /role/);
  });
});
