import { Inject, Injectable, Logger } from '@nestjs/common';
import { EntityManager, LockMode } from '@mikro-orm/postgresql';
import { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { currentTraceHeaders, deriveId } from '@sonet/messaging';
import { DEPENDENCY_RETRY_AFTER_SECONDS, dependencyUnavailableProblem, unavailableProblem, validationProblem } from '@sonet/service-kit';
import { DirectoryService } from '../directory/directory.service';
import { parseTimerOverrides, type TimerOverrides } from '../domain/timer-policy';
import { startSecondOpinionWorkflow, workflowInputFor } from './start-workflow';
import { Patient, Referral } from '../domain/entities';
import { ReferralKeyStore } from '../referral-keys/referral-key-store';
import { TEMPORAL_CLIENT, REFERRAL_CONFIG } from '../infrastructure/tokens';
import type { ReferralConfig } from '../config';
import { workflowIdFor } from '../workflows/definitions';
import type { RequestSecondOpinionCommand } from './request-second-opinion.command';

export interface RequestSecondOpinionResult {
  readonly referralId: string;
  readonly workflowId: string;
}

/**
 * Stores the request (the patient as described in it, and the referral, state `requested`) and starts the referral's
 * workflow. If Temporal cannot be reached in TEMPORAL_START_DEADLINE_MS the request is taken back and the caller hears
 * 503 with Retry-After: a request answered as failed leaves nothing behind. (If the process died between the two
 * steps, the reconciler starts the workflow of the referral left in `requested`.)
 */
@Injectable()
export class RequestSecondOpinionHandler {
  private readonly logger = new Logger(RequestSecondOpinionHandler.name);
  private readonly timerOverrides: TimerOverrides;

  constructor(
    private readonly em: EntityManager,
    private readonly directory: DirectoryService,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
    @Inject(REFERRAL_CONFIG) private readonly config: ReferralConfig,
    private readonly keys: ReferralKeyStore,
  ) {
    this.timerOverrides = parseTimerOverrides(config.TIMER_POLICY_JSON);
  }

  /**
   * `operation`: the request's Idempotency-Key operation (see idempotencyOperationOf). The referral id derives from
   * it, so a retry of a request whose first run recorded the referral (then answered 503, or died) finds that
   * referral and only starts its process, instead of recording a second one.
   */
  async execute(cmd: RequestSecondOpinionCommand, operation?: string): Promise<RequestSecondOpinionResult> {
    // Captured before any await: pooled database I/O does not always keep the request's async context.
    const { traceparent } = currentTraceHeaders();
    const originalTeam = await this.directory.findTeam(cmd.originalTeamId);
    if (!originalTeam) {
      throw validationProblem([{ name: 'originalTeamId', reason: 'no such clinical team in the directory' }]);
    }
    const practice = await this.directory.findOrganisation(cmd.referringPractice);
    const referralId = operation ? deriveId(operation, 'referral') : randomUUID();
    const workflowId = workflowIdFor(referralId);
    await this.em.fork().transactional(async (em) => {
      if (operation && (await em.count(Referral, { id: referralId })) > 0) return;
      // The details given with this request belong to this referral (ADR 12): always a new row, never an update of
      // one another referral (perhaps another practice's) points at.
      const patient = em.create(Patient, {
        id: randomUUID(),
        nhsNumber: cmd.patient.nhsNumber,
        name: cmd.patient.name,
        email: cmd.patient.email ?? null,
        phone: cmd.patient.phone ?? null,
        preferredChannel: cmd.patient.preferredChannel,
        mobile: cmd.patient.mobile ?? null,
        address: cmd.patient.address ?? null,
        contactPreferences: cmd.patient.contactPreferences ?? null,
      });
      const now = new Date();
      em.create(Referral, {
        id: referralId,
        patient,
        referringPractice: cmd.referringPractice,
        originalTeamId: originalTeam.id,
        originalTeamOds: originalTeam.site.ods,
        originalTeamName: originalTeam.name,
        originalTeamEmail: originalTeam.contactEmail,
        referringPracticeEmail: practice?.contactEmail ?? null,
        responsibleTeamOds: originalTeam.site.ods,
        specialty: cmd.specialty,
        urgency: cmd.urgency,
        reason: cmd.reason,
        explainedByOriginalTeam: cmd.explainedByOriginalTeam,
        recordsSharingConsent: cmd.recordsSharingConsent,
        consentRecordedAt: cmd.recordsSharingConsent ? now : null,
        state: 'requested',
        workflowId,
        traceparent: traceparent ?? null,
      });
      // The referral's data key, in the same transaction: its events seal the patient's details with it (ADR 14).
      await em.flush();
      await this.keys.create(em, referralId);
    });
    try {
      await this.temporal.withDeadline(Date.now() + this.config.TEMPORAL_START_DEADLINE_MS, () =>
        startSecondOpinionWorkflow(
          this.temporal,
          this.config.TEMPORAL_TASK_QUEUE,
          workflowInputFor(
            { id: referralId, urgency: cmd.urgency, specialty: cmd.specialty, originalTeamId: originalTeam.id },
            this.timerOverrides,
          ),
        ),
      );
    } catch (e) {
      this.logger.warn({ err: e, referralId }, 'could not start the workflow; taking the request back');
      // Whatever stopped the start (unreachable, too slow, refused), the request is taken back: nothing stays, and a
      // retry (with the same Idempotency-Key or without) starts afresh.
      if (await this.takeBack(referralId)) {
        throw dependencyUnavailableProblem('temporal', 'The referral process cannot be started right now; nothing was recorded.');
      }
    }
    return { referralId, workflowId };
  }

  /**
   * Deletes a referral whose workflow could not be started, and its patient row; false if its workflow has already
   * recorded the request (the start reached Temporal after all, only its answer was lost): then the referral stands.
   * A workflow started that way but not yet run finds no referral and ends without effect (ReferralNotFound).
   * If the database cannot be reached either, the referral stays and the reconciler starts it later.
   */
  private async takeBack(referralId: string): Promise<boolean> {
    try {
      return await this.em.fork().transactional(async (em) => {
        const referral = await em.findOne(Referral, { id: referralId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        if (!referral) return true;
        if (referral.state !== 'requested') return false;
        const patientId = referral.patient.id;
        await em.nativeDelete(Referral, { id: referralId });
        await em.nativeDelete(Patient, { id: patientId });
        await this.keys.discard(em, referralId);
        return true;
      });
    } catch (e) {
      this.logger.error({ err: e, referralId }, 'could not take the request back; the reconciler will start its workflow');
      throw unavailableProblem(
        `The referral ${referralId} was recorded, but its process could not be started yet; it will start automatically.`,
        // A retry with the same Idempotency-Key converges on this referral (its id derives from the key).
        { retryAfterSeconds: DEPENDENCY_RETRY_AFTER_SECONDS, retrySafe: true, extensions: { referralId } },
      );
    }
  }
}
