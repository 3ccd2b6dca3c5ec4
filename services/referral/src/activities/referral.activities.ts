import type { MikroORM } from '@mikro-orm/postgresql';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { RecordsTransferRequested, ReferralRequested } from '@sonet/contracts';
import { context } from '@opentelemetry/api';
import { contextFromTraceHeaders, deriveId, emitEvent } from '@sonet/messaging';
import { EVENT_SOURCE } from '../config';
import { Referral, TimelineEntry } from '../domain/entities';
import type { ReferralActivities } from '../workflows/definitions';

/**
 * Activities write the read model and an outbox row in one transaction. Event ids derive from the
 * workflow id and the step, so a retried activity writes nothing new.
 */
export function createReferralActivities(orm: MikroORM): ReferralActivities {
  const stepId = (step: string) => {
    const workflowId = Context.current().info.workflowExecution?.workflowId;
    if (!workflowId) throw ApplicationFailure.nonRetryable('referral activities run only inside a workflow', 'NoWorkflow');
    return deriveId(workflowId, step);
  };

  const loadReferral = async (em: ReturnType<MikroORM['em']['fork']>, referralId: string) => {
    const referral = await em.findOne(Referral, { id: referralId }, { populate: ['patient'] });
    if (!referral) {
      throw ApplicationFailure.nonRetryable(`referral ${referralId} not found`, 'ReferralNotFound');
    }
    return referral;
  };

  /** Runs fn inside the trace of the request that created the referral, so its events join that trace. */
  const inReferralTrace = async <T>(referralId: string, fn: () => Promise<T>): Promise<T> => {
    const row = await orm.em.fork().findOne(Referral, { id: referralId }, { fields: ['traceparent'] });
    const parent = row?.traceparent ? contextFromTraceHeaders({ traceparent: row.traceparent }) : context.active();
    return context.with(parent, fn);
  };

  return {
    recordRequested: ({ referralId }) => inReferralTrace(referralId, async () => {
      const eventId = stepId('requested');
      return orm.em.fork().transactional(async (em) => {
        const referral = await loadReferral(em, referralId);
        const existing = await em.findOne(TimelineEntry, { id: eventId });
        if (existing) return { at: existing.at.toISOString() };
        const at = new Date();
        const patient = referral.patient;
        await emitEvent(em, ReferralRequested, {
          id: eventId,
          source: EVENT_SOURCE,
          subject: referral.id,
          time: at,
          data: {
            referralId: referral.id,
            referringPractice: referral.referringPractice,
            originalTeam: { ods: referral.originalTeamOds, name: referral.originalTeamName },
            specialty: referral.specialty,
            urgency: referral.urgency,
            reason: referral.reason,
            explainedByOriginalTeam: referral.explainedByOriginalTeam,
            patient: {
              nhsNumber: patient.nhsNumber,
              name: patient.name,
              ...(patient.email ? { email: patient.email } : {}),
              ...(patient.phone ? { phone: patient.phone } : {}),
              preferredChannel: patient.preferredChannel,
            },
            requestedAt: referral.createdAt.toISOString(),
          },
        });
        referral.state = 'gp-review';
        em.create(TimelineEntry, {
          id: eventId,
          referral,
          at,
          state: 'requested',
          eventType: ReferralRequested.type,
          summary: 'Second opinion requested; waiting for the GP to decide whether to refer.',
        });
        return { at: at.toISOString() };
      });
    }),

    requestRecordsTransfer: ({ referralId }) => inReferralTrace(referralId, async () => {
      const eventId = stepId('records-transfer-requested');
      return orm.em.fork().transactional(async (em) => {
        const referral = await loadReferral(em, referralId);
        // Rule 4: nothing is sent without a recorded lawful basis.
        if (!referral.recordsSharingConsent || !referral.consentRecordedAt) return { requested: false, at: new Date().toISOString() };
        const existing = await em.findOne(TimelineEntry, { id: eventId });
        if (existing) return { requested: true, at: existing.at.toISOString() };
        const at = new Date();
        await emitEvent(em, RecordsTransferRequested, {
          id: eventId,
          source: EVENT_SOURCE,
          subject: referral.id,
          time: at,
          data: {
            referralId: referral.id,
            transferId: deriveId(referral.id, 'records-transfer', '1'),
            sourceOrganisation: referral.originalTeamOds,
            targetOrganisation: null,
            documentKinds: ['test-results', 'imaging'],
            lawfulBasis: { basis: 'explicit-consent', recordedAt: referral.consentRecordedAt.toISOString() },
            requestedAt: at.toISOString(),
          },
        });
        em.create(TimelineEntry, {
          id: eventId,
          referral,
          at,
          state: referral.state,
          eventType: RecordsTransferRequested.type,
          summary: 'Relevant test results and imaging requested from the original team, with the patient\'s consent.',
        });
        return { requested: true, at: at.toISOString() };
      });
    }),
  };
}
