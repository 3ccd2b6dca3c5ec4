import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import {
  Client,
  ServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Principal } from '@sonet/auth';
import { deriveId } from '@sonet/messaging';
import { conflictProblem, preconditionFailedProblem, unavailableProblem, validationProblem } from '@sonet/service-kit';
import { assertParty, findVisibleReferral, type Party } from '../domain/access';
import { randomUUID } from 'node:crypto';
import { Referral, TimelineEntry } from '../domain/entities';
import { TEMPORAL_CLIENT } from '../infrastructure/tokens';
import { allowedActions, type DecisionAction } from '../workflows/decider';
import {
  decisionUpdate,
  DECISION_NOT_ALLOWED,
  DECISION_SAME_TEAM,
  REVISION_MISMATCH,
  workflowIdFor,
  type Actor,
  type SecondOpinionStatus,
} from '../workflows/definitions';

export type { Party } from '../domain/access';

/** Parses If-Match ("3", W/"3"); undefined when absent. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const m = /^(?:W\/)?"(\d+)"$/.exec(header.trim());
  if (!m) throw validationProblem([{ name: 'If-Match', reason: 'must be an ETag of this API, e.g. "3"' }]);
  return Number(m[1]);
}

/** How long a caller waits before trying a decision again when the process is not there yet. */
const RETRY_AFTER_SECONDS = 2;

export const etagOf = (revision: number): string => `"${revision}"`;

/**
 * A decision's answer: the new status, with the responsible team in the shape GET gives it (`{ ods }`), so a
 * client reads one shape whichever endpoint answered.
 */
export type DecisionAnswer = Omit<SecondOpinionStatus, 'responsibleTeam'> & { responsibleTeam: { ods: string } };

export function toDecisionAnswer(status: SecondOpinionStatus, referral: Referral): DecisionAnswer {
  // The receiving team becomes responsible only by a care transfer, long after it was chosen: its ODS is recorded.
  const ods = status.responsibleTeam === 'receiving' ? (referral.targetTeamOds ?? referral.responsibleTeamOds) : referral.originalTeamOds;
  return { ...status, responsibleTeam: { ods } };
}

/**
 * Takes a human decision: finds the referral (404 if the caller may not see it), checks the caller is the
 * party this decision belongs to (403), then asks the referral's workflow through its `decision` Update. The
 * workflow's validator refuses a decision its state does not allow before anything is recorded (409 naming the
 * state and the allowed actions), or one made on a stale revision (412).
 */
@Injectable()
export class DecideHandler {
  constructor(
    private readonly em: EntityManager,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
  ) {}

  /** Loads the referral the caller may see, or 404. */
  referralFor(id: string, principal: Principal): Promise<Referral> {
    return findVisibleReferral(this.em.fork(), id, principal);
  }

  /** Throws 403 unless the caller is one of the parties allowed to take this decision (the referral's access policy). */
  assertParty(referral: Referral, principal: Principal, parties: readonly Party[]): void {
    assertParty(referral, principal, parties);
  }

  /** `traceparent`: the HTTP request's trace, captured before any await (pooled I/O can lose async context). */
  async decide(
    referral: Referral,
    principal: Principal,
    action: DecisionAction,
    expectedRevision: number | undefined,
    traceparent: string | undefined,
    /** The Idempotency-Key's operation: the Update id derives from it, so a retried decision is taken once. */
    operation?: string,
  ): Promise<SecondOpinionStatus> {
    const actor: Actor = {
      role: principal.role === 'clinician' ? 'clinician' : principal.role === 'patient' ? 'patient' : 'gp',
      organisation: principal.organisation,
    };
    const handle = this.temporal.workflow.getHandle(workflowIdFor(referral.id));
    try {
      return await handle.executeUpdate(decisionUpdate, {
        ...(operation ? { updateId: deriveId(operation, 'decision') } : {}),
        args: [{ action, actor, ...(expectedRevision !== undefined ? { expectedRevision } : {}), ...(traceparent ? { traceparent } : {}) }],
      });
    } catch (e) {
      throw this.toProblem(e, referral);
    }
  }

  /** Adds a step to the referral's timeline that the workflow does not know of (e.g. the GP's recorded choice). */
  async recordOnTimeline(referralId: string, state: SecondOpinionStatus['state'], eventType: string, summary: string): Promise<void> {
    const em = this.em.fork();
    em.create(TimelineEntry, {
      id: randomUUID(),
      referral: em.getReference(Referral, referralId),
      at: new Date(),
      state,
      eventType,
      summary: summary.slice(0, 500),
    });
    await em.flush();
  }

  /**
   * Maps what Temporal answered to a problem, by the error's class and the failure's type (never its text):
   * the validator's refusals are 409, 400 and 412; a workflow that does not exist is either one not started yet
   * (the read model still says `requested`: its POST answered 503 and the reconciler will start it) answered
   * 503 with Retry-After, or one whose process has ended, 409; Temporal unreachable or too slow is 503.
   */
  toProblem(e: unknown, referral: Referral): Error {
    const failure = e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure ? e.cause : undefined;
    const details = (failure?.details?.[0] ?? {}) as { state?: string; revision?: number; allowedActions?: string[] };
    const extensions = {
      currentState: details.state ?? referral.state,
      allowedActions: details.allowedActions ?? [],
      revision: details.revision ?? referral.revision,
    };
    switch (failure?.type) {
      case DECISION_NOT_ALLOWED:
        return conflictProblem(failure.message, extensions);
      case DECISION_SAME_TEAM:
        return validationProblem([{ name: 'targetTeamId', reason: failure.message }]);
      case REVISION_MISMATCH:
        return preconditionFailedProblem(failure.message, extensions);
    }
    if (e instanceof WorkflowNotFoundError && referral.state === 'requested') {
      return unavailableProblem(
        `The referral ${referral.id} is recorded but its process has not started yet; it will start automatically.`,
        {
          retryAfterSeconds: RETRY_AFTER_SECONDS,
          extensions: { currentState: referral.state },
          // Nothing was decided: the workflow does not exist yet.
          retrySafe: true,
        },
      );
    }
    // The process has ended (its workflow completed): nothing more can be decided.
    if (e instanceof WorkflowNotFoundError) {
      return conflictProblem(`The referral is ${referral.state}; its process has ended.`, {
        currentState: referral.state,
        allowedActions: allowedActions({
          state: referral.state,
          originalTeamId: referral.originalTeamId ?? '',
          originalTeamInformed: !!referral.originalTeamInformedAt,
        }),
        revision: referral.revision,
      });
    }
    if (e instanceof ServiceError || e instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
      return unavailableProblem("The referral's process could not be reached; nothing was decided.", {
        retryAfterSeconds: RETRY_AFTER_SECONDS,
        // A retry under the same Idempotency-Key sends the same Update id, so an update that did land is not taken twice.
        retrySafe: true,
      });
    }
    return e as Error;
  }
}
