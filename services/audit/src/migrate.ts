import { MikroORM } from '@mikro-orm/postgresql';
import { runMigrationsCli } from '@sonet/service-kit';
import { readAuditConfig } from './config';
import { auditOwnerOrmOptions } from './orm';
import { importLegacyEntries } from './retention/legacy-import';
import { AuditLog } from './domain/audit-log';
import { keyerFrom, signerFrom } from './domain/keys';

/** Migrations as the schema's owner, then the entries of the first, unchained version appended to the chain. */
async function main(): Promise<void> {
  const config = readAuditConfig();
  await runMigrationsCli('audit', () => auditOwnerOrmOptions(config));
  if (process.exitCode) return;
  const orm = await MikroORM.init({ ...auditOwnerOrmOptions(config), pool: { min: 0, max: 2 } });
  try {
    const auditLog = new AuditLog({
      chain: config.AUDIT_CHAIN,
      checkpointEvery: config.AUDIT_CHECKPOINT_EVERY_ENTRIES,
      keyer: keyerFrom(config),
      signer: signerFrom(config),
    });
    const n = await importLegacyEntries(orm, auditLog);
    if (n !== null) process.stdout.write(`[migrate] audit: appended ${n} entries of audit_entry_v0 to the chain and dropped it\n`);
  } finally {
    await orm.close(true);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`[migrate] audit: failed: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
