import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { metrics } from '@opentelemetry/api';
import { urgencySchema } from '@sonet/contracts';
import { lazyInstrument } from '@sonet/observability';

const meter = () => metrics.getMeter('sonet-referral');

/**
 * The referral service's own metrics, read from the read model when /metrics is scraped:
 * - `sonet.referrals` by `referral.state`: how many referrals are in each state;
 * - `sonet.referral.steps.overdue` by `referral.urgency`: open referrals whose due step has passed.
 * The time spent in each state (`sonet.referral.state.duration`) is recorded as each step is (recordTimeInState).
 */
@Injectable()
export class ReferralMetrics implements OnApplicationBootstrap {
  constructor(private readonly orm: MikroORM) {}

  onApplicationBootstrap(): void {
    const byState = meter().createObservableGauge('sonet.referrals', { description: 'Referrals in each state' });
    const overdue = meter().createObservableGauge('sonet.referral.steps.overdue', {
      description: 'Open referrals whose due step has passed',
    });
    meter().addBatchObservableCallback(
      async (result) => {
        const em = this.orm.em.fork();
        const states = await em.execute<{ state: string; n: string }[]>('select state, count(*) as n from referral group by state');
        for (const s of states) result.observe(byState, Number(s.n), { 'referral.state': s.state });
        const late = await em.execute<{ urgency: string; n: string }[]>(
          'select urgency, count(*) as n from referral where due_at < now() group by urgency',
        );
        // Every urgency, none overdue included: an alert compares a number, not the absence of a series.
        for (const urgency of urgencySchema.options) {
          result.observe(overdue, Number(late.find((l) => l.urgency === urgency)?.n ?? 0), { 'referral.urgency': urgency });
        }
      },
      [byState, overdue],
    );
  }
}

const stateDuration = lazyInstrument(
  (m) =>
    m.createHistogram('sonet.referral.state.duration', {
      description: 'Time a referral spent in a state',
      unit: 's',
      advice: { explicitBucketBoundaries: [1, 60, 3600, 86_400, 3 * 86_400, 7 * 86_400, 14 * 86_400, 30 * 86_400, 90 * 86_400] },
    }),
  'sonet-referral',
);

/** `sonet.referral.state.duration` (seconds): how long a referral stayed in a state, recorded when it leaves it. */
export function recordTimeInState(state: string, enteredAt: Date, leftAt: Date): void {
  stateDuration().record(Math.max(0, (leftAt.getTime() - enteredAt.getTime()) / 1000), { 'referral.state': state });
}
