import { Inject, Injectable, Logger } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { currentTraceHeaders } from '@sonet/messaging';
import { unavailableProblem, validationProblem } from '@sonet/service-kit';
import { DirectoryService } from '../directory/directory.service';
import { parseTimerOverrides, type TimerOverrides } from '../domain/timer-policy';
import { startSecondOpinionWorkflow, workflowInputFor } from './start-workflow';
import { Patient, Referral } from '../domain/entities';
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
  ) {
    this.timerOverrides = parseTimerOverrides(config.TIMER_POLICY_JSON);
  }

  async execute(cmd: RequestSecondOpinionCommand): Promise<RequestSecondOpinionResult> {
    // Captured before any await: pooled database I/O does not always keep the request's async context.
    const { traceparent } = currentTraceHeaders();
    const originalTeam = await this.directory.findTeam(cmd.originalTeamId);
    if (!originalTeam) {
      throw validationProblem([{ name: 'originalTeamId', reason: 'no such clinical team in the directory' }]);
    }
    const practice = await this.directory.findOrganisation(cmd.referringPractice);
    const referralId = randomUUID();
    const workflowId = workflowIdFor(referralId);
    await this.em.fork().transactional(async (em) => {
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
      );
    }
    return { referralId, workflowId };
  }
}
