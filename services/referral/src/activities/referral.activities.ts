import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { context } from '@opentelemetry/api';
import {
  RecordsTransferCancelRequested,
  RecordsTransferRequested,
  ReferralAppointmentBooked,
  ReferralCareRetained,
  ReferralCareTransferRequested,
  ReferralCareTransferred,
  ReferralClosed,
  ReferralGpDeclined,
  ReferralMoreInfoProvided,
  ReferralMoreInfoRequested,
  ReferralOpinionIssued,
  ReferralOriginalTeamInformed,
  ReferralReferred,
  ReferralReminderDue,
  ReferralRequested,
  ReferralTriageAccepted,
  ReferralTriageRejected,
  ReferralUrgentWaitEscalated,
  ReferralWithdrawn,
  type EventDefinition,
} from '@sonet/contracts';
import { contextFromTraceHeaders, deriveId, emitEvent, type NewEvent } from '@sonet/messaging';
import { EVENT_SOURCE } from '../config';
import { Referral, TimelineEntry } from '../domain/entities';
import type { ReferralState } from '../domain/referral-state';
import type { ReferralActivities, TransitionRecord } from '../workflows/definitions';
import { reminderRecipient } from '../workflows/decider';

export interface PalsContact {
  readonly name: string;
  readonly phone: string;
  readonly email: string;
  readonly url: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Activities write the read model, a timeline entry and an outbox event in one transaction. Event ids derive
 * from the workflow id and the transition's sequence number, so a retried activity writes nothing new: the
 * timeline entry (keyed by the event id) shows it already happened.
 */
export function createReferralActivities(orm: MikroORM, pals: PalsContact): ReferralActivities {
  const workflowId = () => {
    const id = Context.current().info.workflowExecution?.workflowId;
    if (!id) throw ApplicationFailure.nonRetryable('referral activities run only inside a workflow', 'NoWorkflow');
    return id;
  };
  const stepId = (step: string) => deriveId(workflowId(), step);

  const loadReferral = async (em: EntityManager, referralId: string) => {
    const referral = await em.findOne(Referral, { id: referralId }, { populate: ['patient'] });
    if (!referral) throw ApplicationFailure.nonRetryable(`referral ${referralId} not found`, 'ReferralNotFound');
    return referral;
  };

  /**
   * Runs fn inside the trace of the request that caused the step (a decision's HTTP request), or else of the
   * request that created the referral (timers), so the step's events join that trace.
   */
  const inReferralTrace = async <T>(referralId: string, fn: () => Promise<T>, traceparent?: string): Promise<T> => {
    const tp = traceparent ?? (await orm.em.fork().findOne(Referral, { id: referralId }, { fields: ['traceparent'] }))?.traceparent;
    return context.with(tp ? contextFromTraceHeaders({ traceparent: tp }) : context.active(), fn);
  };

  /**
   * The common shape of every step: once per event id, in one transaction: apply the change to the read model,
   * emit the event (if any), add the timeline entry. Returns when it happened (the first time).
   */
  const step = async (
    referralId: string,
    eventId: string,
    entry: (r: Referral) => {
      state?: ReferralState;
      summary: string;
      event?: { def: EventDefinition; data: NewEvent<EventDefinition>['data'] };
      apply?: (r: Referral, at: Date) => void;
      timelineType?: string;
    },
    traceparent?: string,
  ): Promise<{ at: string }> =>
    inReferralTrace(referralId, () =>
      orm.em.fork().transactional(async (em) => {
        const existing = await em.findOne(TimelineEntry, { id: eventId });
        if (existing) return { at: existing.at.toISOString() };
        const referral = await loadReferral(em, referralId);
        const at = new Date();
        const e = entry(referral);
        e.apply?.(referral, at);
        if (e.state) referral.state = e.state;
        if (e.event) {
          await emitEvent(em, e.event.def, { id: eventId, source: EVENT_SOURCE, subject: referral.id, time: at, data: e.event.data });
        }
        em.create(TimelineEntry, {
          id: eventId,
          referral,
          at,
          state: referral.state,
          eventType: e.timelineType ?? e.event?.def.type ?? 'note',
          summary: e.summary,
        });
        return { at: at.toISOString() };
      }),
      traceparent,
    );

  const originalTeam = (r: Referral) => ({
    ods: r.originalTeamOds,
    name: r.originalTeamName,
    ...(r.originalTeamId ? { teamId: r.originalTeamId } : {}),
    ...(r.originalTeamEmail ? { contactEmail: r.originalTeamEmail } : {}),
  });
  const targetTeam = (r: Referral) => ({
    ods: r.targetTeamOds ?? r.originalTeamOds,
    name: r.targetTeamName ?? '',
    ...(r.targetTeamId ? { teamId: r.targetTeamId } : {}),
    ...(r.targetTeamEmail ? { contactEmail: r.targetTeamEmail } : {}),
  });
  const actorOf = (rec: TransitionRecord) => ({
    role: rec.actor.role,
    ...(rec.actor.organisation ? { organisation: rec.actor.organisation } : {}),
  });

  return {
    recordRequested: ({ referralId, dueAt }) =>
      step(referralId, stepId('requested'), (r) => ({
        state: 'gp-review',
        summary: 'Second opinion requested; waiting for the GP to decide whether to refer.',
        apply: (ref) => {
          ref.dueAt = dueAt ? new Date(dueAt) : null;
          ref.dueStep = dueAt ? 'gp-decision' : null;
        },
        event: {
          def: ReferralRequested,
          data: {
            referralId: r.id,
            referringPractice: r.referringPractice,
            ...(r.referringPracticeEmail ? { referringPracticeEmail: r.referringPracticeEmail } : {}),
            originalTeam: originalTeam(r),
            specialty: r.specialty,
            urgency: r.urgency,
            reason: r.reason,
            explainedByOriginalTeam: r.explainedByOriginalTeam,
            patient: {
              nhsNumber: r.patient.nhsNumber,
              name: r.patient.name,
              ...(r.patient.email ? { email: r.patient.email } : {}),
              ...(r.patient.phone ? { phone: r.patient.phone } : {}),
              preferredChannel: r.patient.preferredChannel,
            },
            requestedAt: r.createdAt.toISOString(),
          },
        },
      })),

    async requestRecordsTransfer({ referralId, target, traceparent }) {
      const snapshot = await orm.em.fork().findOne(Referral, { id: referralId });
      if (!snapshot) throw ApplicationFailure.nonRetryable(`referral ${referralId} not found`, 'ReferralNotFound');
      // Rule 4: nothing is sent without a recorded lawful basis.
      if (!snapshot.recordsSharingConsent || !snapshot.consentRecordedAt) return { requested: false, at: new Date().toISOString() };
      const consentAt = snapshot.consentRecordedAt;
      // Ids of the first version (no target: one transfer per referral) stay as they were for replayed executions.
      const attempt = target ? Math.max(snapshot.attempt, 1) : 1;
      const transferId = deriveId(referralId, 'records-transfer', String(attempt));
      const eventId = stepId(target ? `records-transfer-requested-${attempt}` : 'records-transfer-requested');
      const { at } = await step(referralId, eventId, (r) => ({
        summary: target
          ? `Relevant test results and imaging requested from the original team for ${target.name}, with the patient's consent.`
          : "Relevant test results and imaging requested from the original team, with the patient's consent.",
        event: {
          def: RecordsTransferRequested,
          data: {
            referralId: r.id,
            transferId,
            sourceOrganisation: r.originalTeamOds,
            targetOrganisation: target?.ods ?? null,
            documentKinds: target ? ['clinic-letters', 'test-results', 'imaging'] : ['test-results', 'imaging'],
            lawfulBasis: { basis: 'explicit-consent', recordedAt: consentAt.toISOString() },
            requestedAt: new Date().toISOString(),
            // What records-transfer needs to find the relevant records at the source and file them at the target.
            patient: { nhsNumber: r.patient.nhsNumber },
            specialty: r.specialty,
            ...(r.originalTeamId ? { sourceTeamId: r.originalTeamId } : {}),
            ...(target ? { targetTeamId: target.teamId } : {}),
            referringPractice: r.referringPractice,
          },
        },
      }), traceparent);
      return { requested: true, at, transferId };
    },

    recordTransition: (rec) =>
      step(rec.referralId, stepId(`t${rec.seq}`), (r) => {
        const base = {
          state: rec.toState,
          apply: (ref: Referral, at: Date) => {
            ref.revision = rec.revision;
            ref.dueAt = rec.dueAt ? new Date(rec.dueAt) : null;
            ref.dueStep = rec.dueStep ?? null;
            if (rec.toState === 'closed' || rec.toState === 'declined' || rec.toState === 'withdrawn') ref.closedAt = at;
            applyAction(ref, at);
          },
        };
        let applyAction = (_ref: Referral, _at: Date) => undefined as void;
        const a = rec.action;
        switch (a.type) {
          case 'refer':
            applyAction = (ref) => {
              ref.targetTeamId = a.targetTeam.teamId;
              ref.targetTeamOds = a.targetTeam.ods;
              ref.targetTeamName = a.targetTeam.name;
              ref.targetTeamEmail = a.targetTeam.contactEmail ?? null;
              ref.targetSiteName = a.targetTeam.siteName;
              ref.distanceKm = a.targetTeam.distanceKm ?? null;
              ref.attempt = rec.attempt;
            };
            return {
              ...base,
              summary: `Referred to ${a.targetTeam.name} (${a.targetTeam.siteName}) for a second opinion; waiting for triage.`,
              event: {
                def: ReferralReferred,
                data: {
                  referralId: r.id,
                  secondOpinion: true,
                  referringPractice: r.referringPractice,
                  originalTeam: originalTeam(r),
                  targetTeam: {
                    ods: a.targetTeam.ods,
                    name: a.targetTeam.name,
                    teamId: a.targetTeam.teamId,
                    siteName: a.targetTeam.siteName,
                    ...(a.targetTeam.contactEmail ? { contactEmail: a.targetTeam.contactEmail } : {}),
                  },
                  specialty: r.specialty,
                  urgency: r.urgency,
                  ...(a.targetTeam.distanceKm !== undefined ? { distanceKm: a.targetTeam.distanceKm } : {}),
                  triageDueAt: rec.dueAt ?? new Date().toISOString(),
                  attempt: rec.attempt,
                },
              },
            };
          case 'decline':
            return {
              ...base,
              summary: 'The GP decided not to refer; the patient is told why and how to reach PALS.',
              event: {
                def: ReferralGpDeclined,
                data: {
                  referralId: r.id,
                  reason: a.reason,
                  declinedBy: actorOf(rec),
                  pals,
                  nextSteps:
                    'You can talk to your GP again about your concerns, ask your clinical team to go over your diagnosis, or contact PALS for advice and support.',
                },
              },
            };
          case 'triage-accept':
            return {
              ...base,
              summary: `${targetTeam(r).name} accepted the referral; an appointment will be booked.`,
              event: { def: ReferralTriageAccepted, data: { referralId: r.id, team: targetTeam(r), bookingDueAt: rec.dueAt ?? new Date().toISOString() } },
            };
          case 'triage-reject':
            return {
              ...base,
              summary: `${targetTeam(r).name} did not accept the referral; the GP may choose another team.`,
              event: {
                def: ReferralTriageRejected,
                data: {
                  referralId: r.id,
                  team: targetTeam(r),
                  reason: a.reason,
                  pals,
                  nextSteps: 'Your GP can refer you to another clinical team for a second opinion.',
                },
              },
            };
          case 'request-info':
            return {
              ...base,
              summary: `${targetTeam(r).name} asked the GP for more information before triage.`,
              event: { def: ReferralMoreInfoRequested, data: { referralId: r.id, team: targetTeam(r), question: a.question, dueAt: rec.dueAt ?? new Date().toISOString() } },
            };
          case 'provide-info':
            return {
              ...base,
              summary: 'The GP sent the information asked for; triage resumes.',
              event: { def: ReferralMoreInfoProvided, data: { referralId: r.id, answer: a.answer, triageDueAt: rec.dueAt ?? new Date().toISOString() } },
            };
          case 'book-appointment':
            applyAction = (ref) => {
              ref.appointmentAt = new Date(a.appointmentAt);
              ref.appointmentSiteOds = a.site.ods;
              ref.appointmentSiteName = a.site.name;
            };
            return {
              ...base,
              summary: `Appointment booked at ${a.site.name}.`,
              event: { def: ReferralAppointmentBooked, data: { referralId: r.id, team: targetTeam(r), appointmentAt: a.appointmentAt, site: a.site } },
            };
          case 'issue-opinion':
            applyAction = (ref) => {
              ref.opinionOutcome = a.outcome;
            };
            return {
              ...base,
              summary: `Second opinion given: ${a.outcome === 'concurs' ? 'the same as the first' : a.outcome === 'differs' ? 'different from the first' : 'partly different from the first'}.`,
              event: {
                def: ReferralOpinionIssued,
                data: {
                  referralId: r.id,
                  team: targetTeam(r),
                  outcome: a.outcome,
                  summary: a.summary,
                  shareWithOriginalTeam: a.shareWithOriginalTeam,
                  originalTeam: originalTeam(r),
                },
              },
            };
          case 'inform-original-team':
            applyAction = (ref, at) => {
              ref.originalTeamInformedAt = at;
            };
            return {
              ...base,
              summary: 'The original clinical team was told, at the patient\'s choice, that a second opinion is under way.',
              event: { def: ReferralOriginalTeamInformed, data: { referralId: r.id, originalTeam: originalTeam(r), requestedBy: actorOf(rec) } },
            };
          case 'request-care-transfer':
            return {
              ...base,
              summary: 'The patient asked to be treated by the new team; the team and its hospital will decide.',
              event: { def: ReferralCareTransferRequested, data: { referralId: r.id, requestedBy: actorOf(rec), team: targetTeam(r) } },
            };
          case 'care-transfer-decision':
            if (a.accept) {
              applyAction = (ref) => {
                ref.responsibleTeamOds = ref.targetTeamOds ?? ref.responsibleTeamOds;
              };
              return {
                ...base,
                summary: `${targetTeam(r).name} took over the patient's care.`,
                event: { def: ReferralCareTransferred, data: { referralId: r.id, responsibleTeam: targetTeam(r), previousTeam: originalTeam(r) } },
              };
            }
            return {
              ...base,
              summary: 'The new team did not take over care; the original team stays responsible.',
              event: {
                def: ReferralCareRetained,
                data: { referralId: r.id, responsibleTeam: originalTeam(r), reason: a.reason ?? 'No reason given.', pals },
              },
            };
          case 'withdraw':
            return {
              ...base,
              summary: 'The request for a second opinion was withdrawn.',
              event: {
                def: ReferralWithdrawn,
                data: { referralId: r.id, withdrawnBy: actorOf(rec), ...(a.reason ? { reason: a.reason } : {}), fromState: rec.fromState, pals },
              },
            };
          case 'close':
            return {
              ...base,
              summary: 'The second-opinion process has ended.',
              event: {
                def: ReferralClosed,
                data: {
                  referralId: r.id,
                  outcome: a.outcome,
                  responsibleTeam: r.responsibleTeamOds === r.originalTeamOds ? originalTeam(r) : targetTeam(r),
                },
              },
            };
        }
      }, rec.traceparent),

    async remind({ referralId, seq, step: waiting, dueAt, overdue }) {
      await step(referralId, stepId(`t${seq}`), (r) => ({
        summary: overdue ? `The ${waiting} step is overdue.` : `Reminder: the ${waiting} step is due soon.`,
        event: {
          def: ReferralReminderDue,
          data: { referralId: r.id, step: waiting, dueAt, overdue, recipientRole: reminderRecipient(waiting) },
        },
      }));
    },

    async escalateUrgentWait({ referralId, waitedMs, thresholdMs }) {
      await step(referralId, stepId('urgent-wait-escalated'), (r) => ({
        summary: 'Urgent referral without an appointment past its threshold: the original team and the GP were asked to consider treatment now.',
        event: {
          def: ReferralUrgentWaitEscalated,
          data: {
            referralId: r.id,
            waitedDays: Math.round((waitedMs / DAY_MS) * 10) / 10,
            thresholdDays: Math.round((thresholdMs / DAY_MS) * 10) / 10,
            originalTeam: originalTeam(r),
            referringPractice: r.referringPractice,
            message:
              'This urgent second-opinion referral has no appointment yet. Please consider whether any delay in starting treatment could affect the patient\'s wellbeing: treatment need not wait for the second opinion.',
          },
        },
      }));
    },

    async cancelRecordsTransfer({ referralId, transferId, reason, traceparent }) {
      await step(
        referralId,
        stepId(`records-transfer-cancel-${transferId}`),
        (r) => ({
          summary: 'The records transfer was cancelled.',
          event: { def: RecordsTransferCancelRequested, data: { referralId: r.id, transferId, reason } },
        }),
        traceparent,
      );
    },

    async recordTransferOutcome({ referralId, transferId, outcome, reason }) {
      await step(referralId, stepId(`records-transfer-${outcome}-${transferId}`), () => ({
        summary:
          outcome === 'completed'
            ? 'The relevant test results and imaging reached the new team.'
            : `The records transfer failed${reason ? `: ${reason}` : ''}; operations will follow it up.`,
        timelineType: outcome === 'completed' ? 'records.transfer-completed.v1' : 'records.transfer-failed.v1',
      }));
    },
  };
}
