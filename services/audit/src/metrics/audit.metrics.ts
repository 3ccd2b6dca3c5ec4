import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { metrics } from '@opentelemetry/api';
import { lazyInstrument } from '@sonet/observability';
import { AUDIT_CONFIG, type AuditConfig } from '../config';
import type { DatabaseVerifyReport } from '../verify-log/verify-log';

const instruments = lazyInstrument(
  (meter) => ({
    duration: meter.createHistogram('sonet.audit.verify.duration', {
      description: 'Duration of a chain verification',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600] },
    }),
    result: meter.createGauge('sonet.audit.verify.ok', { description: 'Result of the last chain verification: 1 intact, 0 broken' }),
    entries: meter.createGauge('sonet.audit.verify.entries', { description: 'Entries the last chain verification checked' }),
  }),
  'sonet-audit',
);

/** Records a verification's outcome: its duration, whether the chain held, how many entries it covered. */
export function recordVerification(report: Pick<DatabaseVerifyReport, 'ok' | 'chain' | 'entries'>, seconds: number): void {
  const attributes = { 'audit.chain': report.chain };
  instruments().duration.record(seconds, { ...attributes, 'audit.verify.ok': report.ok });
  instruments().result.record(report.ok ? 1 : 0, attributes);
  instruments().entries.record(report.entries, attributes);
}

/** `sonet.audit.chain.head`: the newest sequence number of the chain, read when /metrics is scraped. */
@Injectable()
export class AuditMetrics implements OnApplicationBootstrap {
  constructor(
    private readonly orm: MikroORM,
    @Inject(AUDIT_CONFIG) private readonly config: AuditConfig,
  ) {}

  onApplicationBootstrap(): void {
    metrics
      .getMeter('sonet-audit')
      .createObservableGauge('sonet.audit.chain.head', { description: 'Newest sequence number of the audit chain' })
      .addCallback(async (result) => {
        // The newest entry by the primary key (recorded_at, seq): an index read per partition, not a scan.
        const [row] = await this.orm.em
          .fork()
          .execute<{ seq: string }[]>('select seq from audit_entry order by recorded_at desc, seq desc limit 1');
        result.observe(Number(row?.seq ?? 0), { 'audit.chain': this.config.AUDIT_CHAIN });
      });
  }
}
