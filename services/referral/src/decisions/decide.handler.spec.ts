import type { EntityManager } from '@mikro-orm/postgresql';
import {
  ServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Principal } from '@sonet/auth';
import { Problem } from '@sonet/service-kit';
import type { Referral } from '../domain/entities';
import type { ReferralState } from '../domain/referral-state';
import { DECISION_NOT_ALLOWED, DECISION_SAME_TEAM, REVISION_MISMATCH } from '../workflows/definitions';
import { DecideHandler } from './decide.handler';

/** What Temporal answers a decision, and the HTTP problem each becomes: matched on the error's class and type, never its text. */
describe('the decision error mapping', () => {
  const referral = (state: ReferralState) =>
    ({
      id: '3f0e7a52-7c39-4f7e-9a35-1d2b4c5d6e7f',
      state,
      revision: 4,
      originalTeamId: 'RJ122-CARD',
      originalTeamInformedAt: null,
    }) as unknown as Referral;
  const gp = { role: 'gp', organisation: 'A81001', subject: 'gp' } as Principal;
  const handlerFailingWith = (error: unknown) => {
    const temporal = { workflow: { getHandle: () => ({ executeUpdate: () => Promise.reject(error) }) } } as unknown as Client;
    return new DecideHandler({} as EntityManager, temporal);
  };
  const answer = async (error: unknown, state: ReferralState = 'gp-review') =>
    handlerFailingWith(error)
      .decide(referral(state), gp, { type: 'decline', reason: 'no' }, undefined, undefined)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
  const refused = (type: string, message: string) =>
    new WorkflowUpdateFailedError(
      'Workflow Update failed',
      ApplicationFailure.create({
        type,
        message,
        details: [{ state: 'awaiting-triage', revision: 5, allowedActions: ['withdraw'] }],
        nonRetryable: true,
      }),
    );
  const problem = (e: unknown) => {
    expect(e).toBeInstanceOf(Problem);
    return { status: (e as Problem).status, body: (e as Problem).body, headers: (e as Problem).headers };
  };

  it("a decision the state does not allow: 409 naming the workflow's state, revision and allowed actions", async () => {
    expect(
      problem(await answer(refused(DECISION_NOT_ALLOWED, 'decline is not possible while the referral is awaiting-triage'))),
    ).toMatchObject({
      status: 409,
      body: {
        type: 'urn:sonet:problem:conflict',
        detail: 'decline is not possible while the referral is awaiting-triage',
        currentState: 'awaiting-triage',
        revision: 5,
        allowedActions: ['withdraw'],
      },
    });
  });

  it('the same team again (rule 3): 400 on targetTeamId', async () => {
    expect(problem(await answer(refused(DECISION_SAME_TEAM, 'a different clinical team')))).toMatchObject({
      status: 400,
      body: { 'invalid-params': [{ name: 'targetTeamId', reason: 'a different clinical team' }] },
    });
  });

  it('a stale If-Match: 412 with the current revision', async () => {
    expect(problem(await answer(refused(REVISION_MISMATCH, 'changed since revision 3')))).toMatchObject({
      status: 412,
      body: {
        type: 'urn:sonet:problem:precondition-failed',
        title: 'Precondition failed',
        detail: 'changed since revision 3',
        revision: 5,
        currentState: 'awaiting-triage',
      },
    });
  });

  it("a process that has ended (its workflow closed): 409 with the read model's state and what it allows", async () => {
    const e = new WorkflowNotFoundError('workflow execution already completed', 'second-opinion/x', undefined);
    expect(problem(await answer(e, 'declined'))).toMatchObject({
      status: 409,
      body: { detail: 'The referral is declined; its process has ended.', currentState: 'declined', allowedActions: [], revision: 4 },
    });
  });

  it('whatever the not-found text says: the class decides, not a regex on the message', async () => {
    const e = new WorkflowNotFoundError('sql: no rows in result set', 'second-opinion/x', undefined);
    expect(problem(await answer(e, 'withdrawn')).status).toBe(409);
  });

  it('a process not started yet (read model still `requested`, its POST answered 503): 503 with Retry-After, not "ended"', async () => {
    const e = new WorkflowNotFoundError('workflow not found for ID: second-opinion/x', 'second-opinion/x', undefined);
    const p = problem(await answer(e, 'requested'));
    expect(p).toMatchObject({
      status: 503,
      body: { type: 'urn:sonet:problem:unavailable', currentState: 'requested' },
      headers: { 'retry-after': '2' },
    });
    expect(p.body.detail).not.toMatch(/ended/);
  });

  it('Temporal unreachable, or the Update call timed out: 503 with Retry-After, nothing decided', async () => {
    for (const e of [new ServiceError('Workflow Update failed'), new WorkflowUpdateRPCTimeoutOrCancelledError('timeout')]) {
      expect(problem(await answer(e))).toMatchObject({ status: 503, headers: { 'retry-after': '2' } });
    }
  });

  it('anything else is not a refusal: it goes up as it is (500)', async () => {
    const e = new Error('workflow execution already completed');
    expect(await answer(e)).toBe(e);
    const other = new WorkflowUpdateFailedError('Workflow Update failed', ApplicationFailure.create({ type: 'Boom', message: 'boom' }));
    expect(await answer(other)).toBe(other);
  });
});
