import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { Client } from '@temporalio/client';
import { Referral } from '../domain/entities';
import { startSecondOpinionWorkflow, workflowInputFor } from '../request-second-opinion/start-workflow';
import { parseTimerOverrides, type TimerOverrides } from '../domain/timer-policy';
import type { ReferralConfig } from '../config';
import { REFERRAL_CONFIG, TEMPORAL_CLIENT } from './tokens';

/**
 * Starts the workflow of any referral left in `requested` (its POST stored it but could not reach
 * Temporal, or the process died in between). Starting is idempotent, so a race with the POST is harmless.
 */
@Injectable()
export class StartReconcilerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StartReconcilerService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly timerOverrides: TimerOverrides;

  constructor(
    private readonly orm: MikroORM,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
    @Inject(REFERRAL_CONFIG) private readonly config: ReferralConfig,
  ) {
    this.timerOverrides = parseTimerOverrides(config.TIMER_POLICY_JSON);
  }

  onApplicationBootstrap(): void {
    const every = Math.max(5_000, Math.floor(this.config.START_RECONCILE_AFTER_MS / 2));
    this.timer = setInterval(() => {
      this.running ??= this.reconcileOnce()
        .then((n) => void (n && this.logger.log(`started ${n} workflow(s) that had not started`)))
        .catch((e: unknown) => this.logger.warn({ err: e }, 'start reconciliation failed'))
        .finally(() => (this.running = undefined));
    }, every);
    this.timer.unref();
  }

  async reconcileOnce(): Promise<number> {
    const before = new Date(Date.now() - this.config.START_RECONCILE_AFTER_MS);
    const stuck = await this.orm.em
      .fork()
      .find(
        Referral,
        { state: 'requested', createdAt: { $lt: before } },
        { limit: 100, fields: ['id', 'urgency', 'specialty', 'originalTeamId'] },
      );
    for (const r of stuck) {
      await startSecondOpinionWorkflow(this.temporal, this.config.TEMPORAL_TASK_QUEUE, workflowInputFor(r, this.timerOverrides));
    }
    return stuck.length;
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
