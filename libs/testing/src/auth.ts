import { resolve } from 'node:path';
import { DEV_AUDIENCE, DEV_ISSUER, ensureDevIssuer, jwksPath, mintDevToken, type Role } from '@sonet/auth';

/** The development issuer the running network trusts (infra/local/network.sh creates it in .local/state/auth). */
export const networkIssuerDir = (): string => resolve(process.env.AUTH_DEV_ISSUER_DIR ?? resolve(__dirname, '../../../.local/state/auth'));

/** Tokens for tests: mint one per role and organisation, as a GP system or hospital login would present. */
export async function testTokens(dir = networkIssuerDir()) {
  await ensureDevIssuer(dir);
  return {
    env: { AUTH_ISSUER: DEV_ISSUER, AUTH_AUDIENCE: DEV_AUDIENCE, AUTH_JWKS_FILE: jwksPath(dir) },
    token: (role: Role, organisation: string, nhsNumber?: string) =>
      mintDevToken(dir, { role, organisation, ...(nhsNumber ? { nhsNumber } : {}), subject: `test-${role}-${organisation}` }),
    bearer: async (role: Role, organisation: string, nhsNumber?: string) => ({
      authorization: `Bearer ${await mintDevToken(dir, { role, organisation, ...(nhsNumber ? { nhsNumber } : {}) })}`,
    }),
  };
}
