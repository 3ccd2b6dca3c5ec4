import { Inject, Injectable } from '@nestjs/common';
import { Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { TEMPORAL_CLIENT } from '@sonet/service-kit';
import { RECORDS_TRANSFER_CONFIG, type RecordsTransferConfig } from '../config';
import { releaseManifestSignal, transferWorkflowId, type RecordsTransferInput } from '../workflows/definitions';

/** Starts, releases and cancels transfer workflows; every call is safe to repeat. */
@Injectable()
export class TransferStarter {
  constructor(
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(RECORDS_TRANSFER_CONFIG) private readonly config: RecordsTransferConfig,
  ) {}

  private input(transferId: string): RecordsTransferInput {
    return {
      transferId,
      reviewHoldMs: this.config.RECORDS_REVIEW_HOLD_MS,
      maxAttemptsPerItem: this.config.RECORDS_MAX_ATTEMPTS_PER_ITEM,
      heartbeatTimeoutMs: this.config.RECORDS_HEARTBEAT_TIMEOUT_MS,
    };
  }

  /** One workflow per transfer: a second start (a redelivered command) finds the running or finished one. */
  async start(transferId: string): Promise<void> {
    try {
      await this.run(transferId, WorkflowIdReusePolicy.REJECT_DUPLICATE, WorkflowIdConflictPolicy.USE_EXISTING);
    } catch (e) {
      if (e instanceof WorkflowExecutionAlreadyStartedError) return;
      throw e;
    }
  }

  /** Operations' retry after a failure: a new run of the same workflow id, resuming at the first unconfirmed item. */
  async restart(transferId: string): Promise<void> {
    await this.run(transferId, WorkflowIdReusePolicy.ALLOW_DUPLICATE, WorkflowIdConflictPolicy.FAIL);
  }

  private async run(transferId: string, reuse: WorkflowIdReusePolicy, conflict: WorkflowIdConflictPolicy): Promise<void> {
    await this.client.workflow.start('recordsTransferWorkflow', {
      workflowId: transferWorkflowId(transferId),
      taskQueue: this.config.TEMPORAL_TASK_QUEUE,
      args: [this.input(transferId)],
      workflowIdReusePolicy: reuse,
      workflowIdConflictPolicy: conflict,
    });
  }

  async release(transferId: string): Promise<void> {
    await this.client.workflow
      .getHandle(transferWorkflowId(transferId))
      .signal(releaseManifestSignal)
      .catch((e: unknown) => {
        if (!(e instanceof WorkflowNotFoundError)) throw e;
      });
  }

  /** Cancels the running workflow, if any (it records the cancellation itself). Says whether one was running. */
  async cancel(transferId: string): Promise<boolean> {
    const handle = this.client.workflow.getHandle(transferWorkflowId(transferId));
    try {
      const d = await handle.describe();
      if (d.status.name !== 'RUNNING') return false;
      await handle.cancel();
      return true;
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) return false;
      throw e;
    }
  }
}
