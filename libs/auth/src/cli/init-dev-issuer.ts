import { resolve } from 'node:path';
import { ensureDevIssuer, jwksPath } from '../dev-issuer';

/** Creates the local development issuer's keys once (network start does this); prints the JWKS path. */
const dir = resolve(process.argv[2] ?? process.env.AUTH_DEV_ISSUER_DIR ?? '.local/state/auth');
ensureDevIssuer(dir).then(
  () => process.stdout.write(`${jwksPath(dir)}\n`),
  (e: unknown) => {
    process.stderr.write(`could not create the development issuer: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
