import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { ROLES, tokenClaimsSchema, type Role } from '../principal';
import { mintDevToken } from '../dev-issuer';

/**
 * `npm run -s token -- --role <role> --org <ODS code> [--nhs <NHS number>] [--sub <id>] [--ttl <seconds>]`
 * prints a bearer token from the local development issuer.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      org: { type: 'string' },
      nhs: { type: 'string' },
      sub: { type: 'string' },
      ttl: { type: 'string' },
      dir: { type: 'string' },
    },
  });
  if (!values.role || !values.org) {
    throw new Error(
      `usage: npm run -s token -- --role <${ROLES.join('|')}> --org <ODS code> [--nhs <NHS number>] [--sub <id>] [--ttl <seconds>]`,
    );
  }
  const claims = tokenClaimsSchema.safeParse({ sub: values.sub ?? 'cli', role: values.role, org: values.org, nhs: values.nhs });
  if (!claims.success) throw new Error(claims.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const token = await mintDevToken(resolve(values.dir ?? process.env.AUTH_DEV_ISSUER_DIR ?? '.local/state/auth'), {
    role: values.role as Role,
    organisation: claims.data.org,
    ...(claims.data.nhs ? { nhsNumber: claims.data.nhs } : {}),
    ...(values.sub ? { subject: values.sub } : {}),
    ...(values.ttl ? { ttlSeconds: Number(values.ttl) } : {}),
  });
  process.stdout.write(`${token}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(2);
});
