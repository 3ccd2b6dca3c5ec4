import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput } from '@temporalio/worker';
import { ActivityFailureInterceptor, failureTypeOf, type ActivityAttempt, type ActivityFailureSink } from './activity-failures';

const contextOf = (
  attempt: number,
  workflowExecution: { workflowId: string; runId: string } | undefined = { workflowId: 'wf-1', runId: 'r' },
) =>
  ({
    info: { workflowExecution, workflowType: 'secondOpinion', activityType: 'recordTransition', attempt, isLocal: true },
  }) as unknown as Context;

class Recorded implements ActivityFailureSink {
  readonly failures: [ActivityAttempt, string][] = [];
  readonly recoveries: ActivityAttempt[] = [];
  async failing(a: ActivityAttempt, type: string): Promise<void> {
    this.failures.push([a, type]);
  }
  async recovered(a: ActivityAttempt): Promise<void> {
    this.recoveries.push(a);
  }
}

const input = {} as ActivityExecuteInput;
const failing = () =>
  Promise.reject(Object.assign(new Error('duplicate key value 9434765919'), { name: 'UniqueConstraintViolationException' }));

describe('ActivityFailureInterceptor', () => {
  it('says nothing of a first failure (a retry is normal), and reports from the attempt that would be the third', async () => {
    const sink = new Recorded();
    await expect(new ActivityFailureInterceptor(contextOf(1), sink).execute(input, failing)).rejects.toThrow('duplicate key');
    expect(sink.failures).toEqual([]);
    await expect(new ActivityFailureInterceptor(contextOf(2), sink).execute(input, failing)).rejects.toThrow('duplicate key');
    expect(sink.failures).toEqual([
      [
        { workflowId: 'wf-1', workflowType: 'secondOpinion', activityType: 'recordTransition', attempt: 3, local: true },
        'UniqueConstraintViolationException',
      ],
    ]);
  });

  it('reports the recovery of an activity that had been failing, and passes its result through', async () => {
    const sink = new Recorded();
    await expect(new ActivityFailureInterceptor(contextOf(3), sink).execute(input, () => Promise.resolve('done'))).resolves.toBe('done');
    expect(sink.recoveries.map((a) => a.workflowId)).toEqual(['wf-1']);
    await new ActivityFailureInterceptor(contextOf(1), sink).execute(input, () => Promise.resolve('done'));
    expect(sink.recoveries).toHaveLength(1);
  });

  it("keeps the activity's own outcome when the sink cannot write (the database that failed the activity is down)", async () => {
    const broken: ActivityFailureSink = {
      failing: () => Promise.reject(new Error('down')),
      recovered: () => Promise.reject(new Error('down')),
    };
    await expect(new ActivityFailureInterceptor(contextOf(5), broken).execute(input, failing)).rejects.toThrow('duplicate key');
    await expect(new ActivityFailureInterceptor(contextOf(5), broken).execute(input, () => Promise.resolve(1))).resolves.toBe(1);
  });

  it('leaves an activity run outside a workflow alone', async () => {
    const sink = new Recorded();
    const standalone = { info: { workflowExecution: undefined, activityType: 'x', attempt: 9, isLocal: false } } as unknown as Context;
    await expect(new ActivityFailureInterceptor(standalone, sink).execute(input, failing)).rejects.toThrow();
    expect(sink.failures).toEqual([]);
  });
});

describe('failureTypeOf', () => {
  it('names a failure by its type, never by its message (which can quote what the activity read)', () => {
    expect(failureTypeOf(Object.assign(new Error('patient 9434765919'), { type: 'DecisionRejected' }))).toBe('DecisionRejected');
    expect(failureTypeOf(new TypeError('x'))).toBe('TypeError');
    expect(failureTypeOf('a string')).toBe('Error');
  });
});
