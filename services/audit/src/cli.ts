import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { pgConnectionOf, readAuditConfig, type AuditConfig } from './config';
import { auditOwnerOrmOptions } from './orm';
import { AuditLog } from './domain/audit-log';
import { CheckpointKeyring } from './domain/checkpoint';
import { checkpointsOf } from './domain/checkpoint-store';
import { fromNdjson, verifyEvidence, type EvidencePack } from './domain/evidence';
import { packFromFhirBundle, type FhirResource } from './domain/fhir';
import { keyerFrom, keyringFrom, signerFrom } from './domain/keys';
import { CheckpointLog } from './infrastructure/checkpoint-log';
import { applyRetention } from './retention/retention';
import { verifyOffThread } from './verify-log/verify-runner';

const USAGE = `usage: npm run -s audit -- <command>
  verify [--from SEQ] [--checkpoint-log FILE] [--public-key PEM]   recompute the chain in the database; exit 2 if it breaks
  verify-export FILE --public-key PEM [--accept-unsealed]          check an evidence pack (NDJSON or FHIR bundle) offline;
                                                                   --accept-unsealed checks the entries of a pre-ADR-0011 pack
  retention [--dry-run] [--months N]                               drop month partitions past retention, as an audited act
  public-key                                                       print the checkpoint signing key's public half (PEM)
Database settings come from the environment (PGHOST, PGPORT, PGDATABASE, PGUSER/PGPASSWORD; retention: PGOWNER_*).`;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const pgClient = (config: AuditConfig, owner = false) => new Client(pgConnectionOf(config, owner));

const keyringOf = (config: AuditConfig, publicKeyFile: string | undefined): CheckpointKeyring =>
  publicKeyFile ? CheckpointKeyring.fromPem(readFileSync(publicKeyFile, 'utf8')) : keyringFrom(config);

/** Runs one command; returns the exit code (0 ok, 2 verification failed, 1 error). */
type CliValues = {
  from?: string;
  'checkpoint-log'?: string;
  'public-key'?: string;
  'dry-run'?: boolean;
  months?: string;
  'accept-unsealed'?: boolean;
};

export async function runCli(argv: readonly string[], env: Record<string, string | undefined>, io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: [...rest],
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      'checkpoint-log': { type: 'string' },
      'public-key': { type: 'string' },
      'dry-run': { type: 'boolean' },
      months: { type: 'string' },
      'accept-unsealed': { type: 'boolean' },
    },
  });
  switch (command) {
    case 'verify':
      return verifyCommand(env, values, io);
    case 'verify-export':
      return verifyExportCommand(positionals[0], values, io);
    case 'retention':
      return retentionCommand(env, values, io);
    case 'public-key':
      io.out(signerFrom(readAuditConfig(env)).publicKeyPem());
      return 0;
    default:
      io.err(`${USAGE}\n`);
      return 1;
  }
}

/** `verify`: the whole chain (or from a sequence number) against its checkpoints; 2 when anything is wrong. */
async function verifyCommand(env: Record<string, string | undefined>, values: CliValues, io: CliIo): Promise<number> {
  const config = readAuditConfig(env);
  const report = await verifyOffThread(pgConnectionOf(config), {
    chain: config.AUDIT_CHAIN,
    keyring: keyringOf(config, values['public-key']),
    external: new CheckpointLog(values['checkpoint-log'] ?? config.AUDIT_CHECKPOINT_LOG_FILE).read(),
    ...(values.from ? { fromSeq: BigInt(values.from) } : {}),
  });
  io.out(`${JSON.stringify(report, null, 2)}\n`);
  return report.ok && report.schema.length === 0 ? 0 : 2;
}

/** `verify-export FILE`: an evidence pack (NDJSON or FHIR bundle) checked offline; 2 when it does not verify. */
function verifyExportCommand(file: string | undefined, values: CliValues, io: CliIo): number {
  if (!file) throw new Error('verify-export needs a file');
  const text = readFileSync(file, 'utf8');
  const pack: EvidencePack = text.trimStart().startsWith('{"record"')
    ? fromNdjson(text)
    : packFromFhirBundle(JSON.parse(text) as FhirResource);
  let keyring: CheckpointKeyring;
  if (values['public-key']) keyring = CheckpointKeyring.fromPem(readFileSync(values['public-key'], 'utf8'));
  else {
    io.err('warning: no --public-key given: checking against the key inside the pack proves consistency, not origin\n');
    keyring = CheckpointKeyring.fromPem(pack.publicKeyPem);
  }
  const acceptUnsealed = values['accept-unsealed'] ?? false;
  if (acceptUnsealed && !pack.seal)
    io.err('warning: the pack has no seal (exported before ADR 0011): its entries are checked, not that none was removed\n');
  const result = verifyEvidence(pack, keyring, { acceptUnsealed });
  io.out(`${JSON.stringify({ referralId: pack.referralId, chain: pack.chain, ...result }, null, 2)}\n`);
  return result.ok ? 0 : 2;
}

/** `retention`: drops the partitions past retention (or says which with --dry-run), checkpoints kept outside too. */
async function retentionCommand(env: Record<string, string | undefined>, values: CliValues, io: CliIo): Promise<number> {
  const config = readAuditConfig(env);
  const months = values.months ? Number(values.months) : config.AUDIT_RETENTION_MONTHS;
  const signer = signerFrom(config);
  const orm = await MikroORM.init({ ...auditOwnerOrmOptions(config), pool: { min: 0, max: 2 } });
  const client = pgClient(config, true);
  await client.connect();
  const checkpointLog = new CheckpointLog(config.AUDIT_CHECKPOINT_LOG_FILE);
  try {
    const auditLog = new AuditLog({
      chain: config.AUDIT_CHAIN,
      checkpointEvery: config.AUDIT_CHECKPOINT_EVERY_ENTRIES,
      keyer: keyerFrom(config),
      signer,
    });
    const report = await applyRetention(orm, client, auditLog, {
      months,
      dryRun: values['dry-run'] ?? false,
      keyring: keyringFrom(config, signer),
      external: checkpointLog.read(),
    });
    if (report.applied) {
      const inLog = new Set(checkpointLog.read().map((c) => `${c.chain}/${c.seq}`));
      checkpointLog.append(
        (await checkpointsOf(client, config.AUDIT_CHAIN)).map((c) => c.checkpoint).filter((c) => !inLog.has(`${c.chain}/${c.seq}`)),
      );
    }
    io.out(`${JSON.stringify(report, null, 2)}\n`);
    return report.applied || values['dry-run'] || report.partitions.length === 0 ? 0 : 2;
  } finally {
    await client.end();
    await orm.close(true);
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2), process.env, { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`audit: ${(e as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
