import { Inject, Injectable } from '@nestjs/common';
import { AUDIT_CONFIG, pgConnectionOf, type AuditConfig } from '../config';
import { CheckpointKeyring } from '../domain/checkpoint';
import { CheckpointLog } from '../infrastructure/checkpoint-log';
import type { DatabaseVerifyReport } from './verify-log';
import { verifyOffThread } from './verify-runner';
import { recordVerification } from '../metrics/audit.metrics';

/** GET /v1/audit/verify: the whole chain (or from a seq), with the service's own database role (SELECT only), off the main thread. */
@Injectable()
export class VerifyLogHandler {
  constructor(
    @Inject(AUDIT_CONFIG) private readonly config: AuditConfig,
    @Inject(CheckpointKeyring) private readonly keyring: CheckpointKeyring,
    @Inject(CheckpointLog) private readonly checkpointLog: CheckpointLog,
  ) {}

  async execute(fromSeq?: bigint): Promise<DatabaseVerifyReport> {
    const started = performance.now();
    const report = await verifyOffThread(pgConnectionOf(this.config), {
      chain: this.config.AUDIT_CHAIN,
      keyring: this.keyring,
      external: this.checkpointLog.read(),
      ...(fromSeq !== undefined ? { fromSeq } : {}),
    });
    recordVerification(report, (performance.now() - started) / 1000);
    return report;
  }
}
