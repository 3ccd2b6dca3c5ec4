import { Inject, Injectable, Logger } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { currentTraceHeaders, deriveId } from '@sonet/messaging';
import { unavailableProblem, validationProblem } from '@sonet/service-kit';
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
 * Stores the request (the patient as described in it, and the referral, state `requested`) and starts the referral's workflow.
 * If Temporal cannot be reached the request is kept and the reconciler starts its workflow later;
 * the caller hears 503 and can look the referral up by its id.
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
      await startSecondOpinionWorkflow(
        this.temporal,
        this.config.TEMPORAL_TASK_QUEUE,
        workflowInputFor(
          { id: referralId, urgency: cmd.urgency, specialty: cmd.specialty, originalTeamId: originalTeam.id },
          this.timerOverrides,
        ),
      );
    } catch (e) {
      this.logger.error({ err: e, referralId }, 'could not start the workflow; the reconciler will retry');
      throw unavailableProblem(
        `The referral ${referralId} was recorded, but its process could not be started yet; it will start automatically.`,
        // A retry with the same Idempotency-Key converges on this referral (its id derives from the key).
        { retrySafe: true, extensions: { referralId } },
      );
    }
    return { referralId, workflowId };
  }
}
