import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { AUDIT_CONFIG, type AuditConfig } from '../config';
import { AuditLog } from '../domain/audit-log';
import { checkpointsOf } from '../domain/checkpoint-store';
import { CheckpointLog } from '../infrastructure/checkpoint-log';

/**
 * Time-based checkpoints (every AUDIT_CHECKPOINT_EVERY_SECONDS, when the chain has grown since the last one;
 * count-based ones are signed in the append transaction) and the copy of every committed checkpoint to the
 * checkpoint log outside the database.
 */
@Injectable()
export class CheckpointService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(CheckpointService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly orm: MikroORM,
    private readonly auditLog: AuditLog,
    @Inject(CheckpointLog) private readonly checkpointLog: CheckpointLog,
    @Inject(AUDIT_CONFIG) private readonly config: AuditConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.AUDIT_CHECKPOINT_EVERY_SECONDS * 1000);
    this.timer.unref();
  }

  /** Signs the head if it moved, then writes out what the database holds beyond the log. */
  tick(): Promise<void> {
    this.running ??= (async () => {
      try {
        await this.orm.em.fork().transactional((em) => this.auditLog.checkpointHead(em, 'periodic'));
        await this.shipCheckpoints();
      } catch (e) {
        this.logger.warn({ err: e }, 'checkpoint round failed; retrying next round');
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  async shipCheckpoints(): Promise<void> {
    // The log itself says how far it goes (another process may have written to it too).
    const written = this.checkpointLog.lastSeq(this.config.AUDIT_CHAIN);
    const fresh = await checkpointsOf(this.orm.em.fork(), this.config.AUDIT_CHAIN, 'and seq > $2', [written.toString()]);
    this.checkpointLog.append(fresh.map((c) => c.checkpoint));
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
