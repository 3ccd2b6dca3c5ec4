import type { MikroORM } from '@mikro-orm/postgresql';
import { WorkflowIdConflictPolicy, type Client, type WorkflowStartOptions } from '@temporalio/client';
import { readReferralConfig } from '../config';
import { timerPolicyFor } from '../domain/timer-policy';
import { StartReconcilerService } from './start-reconciler.service';

/** Referrals left in `requested` (POST stored them, Temporal was down) get their workflow started later. */
describe('StartReconcilerService', () => {
  const config = readReferralConfig({ START_RECONCILE_AFTER_MS: '60000', TEMPORAL_TASK_QUEUE: 'second-opinion-test' });
  const stuck = [
    { id: 'a1b2c3d4-0000-4000-8000-000000000001', urgency: 'routine' as const, specialty: 'cardiology', originalTeamId: 'RJ122-CARD' },
    { id: 'a1b2c3d4-0000-4000-8000-000000000002', urgency: 'urgent' as const, specialty: 'oncology', originalTeamId: null },
  ];

  const setUp = (rows: typeof stuck, start: (name: string, o: WorkflowStartOptions) => Promise<unknown> = async () => ({})) => {
    const queries: { where: Record<string, unknown>; options: Record<string, unknown> }[] = [];
    const starts: { name: string; options: WorkflowStartOptions }[] = [];
    const orm = {
      em: {
        fork: () => ({
          find: async (_entity: unknown, where: Record<string, unknown>, options: Record<string, unknown>) => (
            queries.push({ where, options }),
            rows
          ),
        }),
      },
    } as unknown as MikroORM;
    const temporal = {
      workflow: { start: async (name: string, options: WorkflowStartOptions) => (starts.push({ name, options }), start(name, options)) },
    } as unknown as Client;
    return { service: new StartReconcilerService(orm, temporal, config), queries, starts };
  };

  it('starts the workflow of each referral left in `requested` longer than START_RECONCILE_AFTER_MS, idempotently', async () => {
    const { service, queries, starts } = setUp(stuck);
    const before = Date.now();
    expect(await service.reconcileOnce()).toBe(2);

    expect(queries).toHaveLength(1);
    const where = queries[0]!.where as { state: string; createdAt: { $lt: Date } };
    expect(where.state).toBe('requested');
    // Only referrals older than the threshold: a POST still starting its own workflow is left alone.
    expect(where.createdAt.$lt.getTime()).toBeGreaterThanOrEqual(before - 60_000);
    expect(where.createdAt.$lt.getTime()).toBeLessThanOrEqual(Date.now() - 60_000);
    expect(queries[0]!.options).toMatchObject({ limit: 100 });

    expect(starts.map((s) => s.name)).toEqual(['secondOpinionWorkflow', 'secondOpinionWorkflow']);
    expect(starts[0]!.options).toMatchObject({
      taskQueue: 'second-opinion-test',
      workflowId: `second-opinion/${stuck[0]!.id}`,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      args: [
        { referralId: stuck[0]!.id, urgency: 'routine', originalTeamId: 'RJ122-CARD', policy: timerPolicyFor('routine', 'cardiology', {}) },
      ],
    });
    // No original team id recorded: the input has none (never an empty string).
    expect(starts[1]!.options.args).toEqual([
      { referralId: stuck[1]!.id, urgency: 'urgent', policy: timerPolicyFor('urgent', 'oncology', {}) },
    ]);
  });

  it('starts nothing when nothing is stuck', async () => {
    const { service, starts } = setUp([]);
    expect(await service.reconcileOnce()).toBe(0);
    expect(starts).toEqual([]);
  });

  it('fails the round when Temporal is still down, so the next round tries again', async () => {
    const { service } = setUp(stuck, async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:7233');
    });
    await expect(service.reconcileOnce()).rejects.toThrow('ECONNREFUSED');
  });

  it('runs every half threshold (at least every 5 s) once the app has started, and stops on shutdown', async () => {
    jest.useFakeTimers();
    try {
      const { service, starts } = setUp(stuck);
      service.onApplicationBootstrap();
      await jest.advanceTimersByTimeAsync(29_999);
      expect(starts).toHaveLength(0);
      await jest.advanceTimersByTimeAsync(1);
      expect(starts).toHaveLength(2);
      await service.onApplicationShutdown();
      await jest.advanceTimersByTimeAsync(60_000);
      expect(starts).toHaveLength(2);
    } finally {
      jest.useRealTimers();
    }
  });
});
