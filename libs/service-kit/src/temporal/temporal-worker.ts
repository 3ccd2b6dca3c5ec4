import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { setEnvironmentData } from 'node:worker_threads';
import { z } from 'zod';
import type { PayloadCodec } from '@temporalio/common';
import type { Context } from '@temporalio/activity';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { ActivityFailureInterceptor, type ActivityFailureSink } from './activity-failures';
import { tracingWorkerOptions } from './tracing-interceptors';

export interface TemporalWorkerSettings {
  readonly address: string;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly activities: object;
  /** The codec the service's client uses too: both must read what the other wrote. */
  readonly codec: PayloadCodec;
  /** A prebuilt workflow bundle (production); without one the sources at `workflowsPath` are bundled at start (tests). */
  readonly workflowBundlePath?: string | undefined;
  readonly workflowsPath: string;
  readonly maxConcurrentActivityTaskExecutions?: number;
  /**
   * The bound of the worker's workflow cache (sticky executions kept in memory; beyond it the least recently used is
   * evicted and replayed from history when it next has work). Default TEMPORAL_MAX_CACHED_WORKFLOWS_DEFAULT.
   */
  readonly maxCachedWorkflows?: number;
  /** Where activities that keep failing are reported (the stuck list): local activities are not in Temporal's. */
  readonly activityFailures?: ActivityFailureSink;
  /**
   * Record a stack trace for every promise a workflow creates, for Temporal's stack trace query (the UI's "Stack
   * Trace" tab). Off by default: it costs about a quarter of the referral service's CPU (docs/adr/0022).
   */
  readonly workflowStackTraces?: boolean;
}

/**
 * The key the patched Temporal worker reads in its workflow threads (patches/@temporalio+worker*): `false` leaves out
 * the promise hook that records workflow stack traces. It is worker-thread environment data (node:worker_threads
 * `setEnvironmentData`), which each thread copies when it is made: set before the worker is created, one value per
 * process at a time.
 */
export const WORKFLOW_STACK_TRACES_KEY = 'temporalio.workflowStackTraces';

/** Settings every worker service's configuration has besides where it polls. */
export const temporalWorkerConfigSchema = z.object({
  /**
   * true: Temporal's stack trace query works for this service's workflows, at the cost of a stack trace recorded for
   * every promise a workflow creates (docs/adr/0022). Default false: the query answers that stack traces are off.
   */
  TEMPORAL_WORKFLOW_STACK_TRACES: z.stringbool().default(false),
});

/**
 * Workflows kept in a worker's cache by default. A referral's workflow is small in memory (its state and a few
 * timers), so this bounds the worker at a few tens of MiB of cached executions however many referrals are open
 * (the rest wait in Temporal's history, replayed on their next event). docs/scaling.md has the arithmetic.
 */
export const TEMPORAL_MAX_CACHED_WORKFLOWS_DEFAULT = 1000;

/**
 * Runs a service's Temporal worker in its process: started once the app has bootstrapped (not inside a provider
 * factory), drained on shutdown so in-flight activities finish or heartbeat out. The worker library (native code)
 * is loaded only by a process that runs a worker.
 */
export class TemporalWorkerRunner {
  private readonly logger = new Logger(TemporalWorkerRunner.name);
  private worker: Worker | undefined;
  private running: Promise<void> | undefined;
  private connection: NativeConnection | undefined;

  async start(s: TemporalWorkerSettings): Promise<void> {
    const { NativeConnection, Worker } = await import('@temporalio/worker');
    setEnvironmentData(WORKFLOW_STACK_TRACES_KEY, s.workflowStackTraces ?? false);
    this.connection = await NativeConnection.connect({ address: s.address });
    this.worker = await Worker.create({
      connection: this.connection,
      namespace: s.namespace,
      taskQueue: s.taskQueue,
      activities: s.activities,
      dataConverter: { payloadCodecs: [s.codec] },
      ...(s.workflowBundlePath ? { workflowBundle: { codePath: s.workflowBundlePath } } : { workflowsPath: s.workflowsPath }),
      ...(s.maxConcurrentActivityTaskExecutions ? { maxConcurrentActivityTaskExecutions: s.maxConcurrentActivityTaskExecutions } : {}),
      shutdownGraceTime: '10 seconds',
      maxCachedWorkflows: s.maxCachedWorkflows ?? TEMPORAL_MAX_CACHED_WORKFLOWS_DEFAULT,
      ...withActivityFailures(tracingWorkerOptions(s.workflowBundlePath !== undefined), s.activityFailures),
    });
    this.running = this.worker.run().catch((e: unknown) => {
      this.logger.error({ err: e }, 'Temporal worker stopped with an error');
      throw e;
    });
    this.logger.log(`Temporal worker polling task queue ${s.taskQueue}`);
  }

  async stop(): Promise<void> {
    if (this.worker && this.worker.getState() === 'RUNNING') this.worker.shutdown();
    await this.running?.catch(() => undefined);
    await this.connection?.close();
  }
}

/** Adds the failing-activity reporter after the tracing interceptors (so its reports are inside the activity's span). */
function withActivityFailures<T extends ReturnType<typeof tracingWorkerOptions>>(options: T, sink: ActivityFailureSink | undefined): T {
  if (!sink) return options;
  const activity = [...(options.interceptors?.activity ?? []), (ctx: Context) => ({ inbound: new ActivityFailureInterceptor(ctx, sink) })];
  return { ...options, interceptors: { ...options.interceptors, activity } };
}

/** The settings of a service's configuration that say where its worker polls (baseline of every worker service). */
export interface TemporalWorkerConfig {
  readonly TEMPORAL_ADDRESS: string;
  readonly TEMPORAL_NAMESPACE: string;
  readonly TEMPORAL_TASK_QUEUE: string;
  readonly WORKFLOW_BUNDLE_PATH?: string | undefined;
  readonly TEMPORAL_WORKFLOW_STACK_TRACES?: boolean;
}

/** Where a worker polls, from the service's configuration. */
export const workerTarget = (config: TemporalWorkerConfig) => ({
  address: config.TEMPORAL_ADDRESS,
  namespace: config.TEMPORAL_NAMESPACE,
  taskQueue: config.TEMPORAL_TASK_QUEUE,
  workflowBundlePath: config.WORKFLOW_BUNDLE_PATH,
  workflowStackTraces: config.TEMPORAL_WORKFLOW_STACK_TRACES ?? false,
});

/**
 * A Nest provider that runs a service's Temporal worker in its process: started once the app has bootstrapped,
 * drained on shutdown. A service says what its worker runs in `workerSettings()`, or undefined for none here
 * (RUN_WORKER=false: an API-only replica).
 */
export abstract class TemporalWorkerHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly runner = new TemporalWorkerRunner();

  protected abstract workerSettings(): TemporalWorkerSettings | undefined;

  async onApplicationBootstrap(): Promise<void> {
    const settings = this.workerSettings();
    if (settings) await this.runner.start(settings);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.stop();
  }
}
