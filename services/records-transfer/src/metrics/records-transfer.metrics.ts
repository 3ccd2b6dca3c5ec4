import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { metrics } from '@opentelemetry/api';

/**
 * Read from the database when /metrics is scraped (right across restarts and replicas):
 * - `sonet.records_transfer.bytes` / `sonet.records_transfer.items` by `item.status`: bytes and manifest items;
 * - `sonet.records_transfer.transfers` by `transfer.status`: transfers, the failed and refused among them.
 */
@Injectable()
export class RecordsTransferMetrics implements OnApplicationBootstrap {
  constructor(private readonly orm: MikroORM) {}

  onApplicationBootstrap(): void {
    const meter = metrics.getMeter('sonet-records-transfer');
    const bytes = meter.createObservableGauge('sonet.records_transfer.bytes', { description: 'Bytes of manifest items', unit: 'By' });
    const items = meter.createObservableGauge('sonet.records_transfer.items', { description: 'Manifest items by status' });
    const transfers = meter.createObservableGauge('sonet.records_transfer.transfers', { description: 'Transfers by status' });
    meter.addBatchObservableCallback(
      async (result) => {
        const em = this.orm.em.fork();
        const byItem = await em.execute<{ status: string; n: string; bytes: string | null }[]>(
          'select status, count(*) as n, sum(size) as bytes from transfer_item group by status',
        );
        for (const r of byItem) {
          result.observe(items, Number(r.n), { 'item.status': r.status });
          result.observe(bytes, Number(r.bytes ?? 0), { 'item.status': r.status });
        }
        const byTransfer = await em.execute<{ status: string; n: string }[]>(
          'select status, count(*) as n from transfer_request group by status',
        );
        for (const r of byTransfer) result.observe(transfers, Number(r.n), { 'transfer.status': r.status });
      },
      [bytes, items, transfers],
    );
  }
}
