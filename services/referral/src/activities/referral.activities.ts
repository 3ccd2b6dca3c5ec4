import type { MikroORM } from '@mikro-orm/postgresql';
import { ApplicationFailure } from '@temporalio/common';
import {
  RecordsTransferCancelRequested,
  RecordsTransferRequestedV2,
  ReferralReminderDue,
  ReferralRequestedV2,
  ReferralUrgentWaitEscalated,
  SEALED_PATIENT_FIELD,
  type SealedField,
} from '@sonet/contracts';
import { deriveId, sealField, type DataKey } from '@sonet/messaging';
import { nativeQuery } from '@sonet/service-kit';
import type { ReferralKeyStore } from '../referral-keys/referral-key-store';
import { Referral } from '../domain/entities';
import type { ReferralActivities, TeamSnapshot, TransitionRecord } from '../workflows/definitions';
import { isTerminal, reminderRecipient } from '../workflows/decider';
import { emission, originalTeam, recordStep, stepId, type StepEntry } from './record-step';
import type { PalsContact } from '@sonet/contracts';
import { effectsOf } from './transition-effects';

export type { PalsContact };

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Activities write the read model, a timeline entry and an outbox event in one transaction (./record-step).
 * Event ids derive from the workflow id and the transition's sequence number, so a retried activity writes
 * nothing new: the timeline entry (keyed by the event id) shows it already happened.
 */
export function createReferralActivities(orm: MikroORM, pals: PalsContact, keys: ReferralKeyStore): ReferralActivities {
  return {
    recordRequested: async ({ referralId, dueAt }) => {
      const key = await sealingKey(orm, keys, referralId);
      return recordStep(orm, referralId, stepId('requested'), (r) => requested(r, dueAt, key));
    },

    requestRecordsTransfer: (input) => requestRecordsTransfer(orm, keys, input),

    recordTransition: (rec) => recordStep(orm, rec.referralId, stepId(`t${rec.seq}`), (r) => transition(rec, r, pals), rec.traceparent),

    async remind({ referralId, seq, step: waiting, dueAt, overdue }) {
      await recordStep(orm, referralId, stepId(`t${seq}`), (r) => ({
        summary: overdue ? `The ${waiting} step is overdue.` : `Reminder: the ${waiting} step is due soon.`,
        event: emission(ReferralReminderDue, {
          referralId: r.id,
          step: waiting,
          dueAt,
          overdue,
          recipientRole: reminderRecipient(waiting),
        }),
      }));
    },

    async escalateUrgentWait({ referralId, waitedMs, thresholdMs }) {
      await recordStep(orm, referralId, stepId('urgent-wait-escalated'), (r) => urgentWaitEscalated(r, waitedMs, thresholdMs));
    },

    async cancelRecordsTransfer({ referralId, transferId, reason, traceparent }) {
      await recordStep(
        orm,
        referralId,
        stepId(`records-transfer-cancel-${transferId}`),
        (r) => ({
          summary: 'The records transfer was cancelled.',
          event: emission(RecordsTransferCancelRequested, { referralId: r.id, transferId, reason }),
        }),
        traceparent,
      );
    },

    async recordTransferOutcome({ referralId, transferId, outcome, reason }) {
      await recordStep(orm, referralId, stepId(`records-transfer-${outcome}-${transferId}`), () => ({
        summary:
          outcome === 'completed'
            ? 'The relevant test results and imaging reached the new team.'
            : `The records transfer failed${reason ? `: ${reason}` : ''}; operations will follow it up.`,
        timelineType: outcome === 'completed' ? 'records.transfer-completed.v1' : 'records.transfer-failed.v1',
      }));
    },
  };
}

/**
 * The generic transition recorder: what every transition writes (state, revision, due time, closedAt), and
 * what its entry in the transition catalogue (./transition-effects) adds: event, summary, read-model patch.
 */
function transition(rec: TransitionRecord, r: Referral, pals: PalsContact): StepEntry {
  const effects = effectsOf(rec.action);
  const x = { action: rec.action, referral: r, record: rec, pals };
  return {
    state: rec.toState,
    summary: effects.summary(x),
    event: effects.event(x),
    apply: (ref, at) => {
      ref.revision = rec.revision;
      ref.dueAt = rec.dueAt ? new Date(rec.dueAt) : null;
      ref.dueStep = rec.dueStep ?? null;
      if (isTerminal(rec.toState)) ref.closedAt = at;
      effects.patch?.(ref, x, at);
    },
  };
}

/**
 * The key the referral's events seal patient details with (ADR 14). Erasure is refused while a referral is open, so
 * a destroyed key here means the data must not travel again: the step fails for good instead of sending it in clear.
 */
async function sealingKey(orm: MikroORM, keys: ReferralKeyStore, referralId: string): Promise<DataKey> {
  const key = await orm.em.fork().transactional((em) => keys.forSealing(em, referralId));
  if (key === 'destroyed') {
    throw ApplicationFailure.nonRetryable(`the data key of referral ${referralId} was destroyed`, 'DataKeyDestroyed');
  }
  return key;
}

/** A value sealed where it belongs: this referral, this event type, this field. */
const sealFor = (key: DataKey, referralId: string, eventType: string, value: unknown): SealedField =>
  sealField(key, { referralId, eventType, field: SEALED_PATIENT_FIELD }, value);

function requested(r: Referral, dueAt: string | undefined, key: DataKey): StepEntry {
  return {
    state: 'gp-review',
    summary: 'Second opinion requested; waiting for the GP to decide whether to refer.',
    apply: (ref) => {
      ref.dueAt = dueAt ? new Date(dueAt) : null;
      ref.dueStep = dueAt ? 'gp-decision' : null;
    },
    event: emission(ReferralRequestedV2, {
      referralId: r.id,
      referringPractice: r.referringPractice,
      ...(r.referringPracticeEmail ? { referringPracticeEmail: r.referringPracticeEmail } : {}),
      originalTeam: originalTeam(r),
      specialty: r.specialty,
      urgency: r.urgency,
      reason: r.reason,
      explainedByOriginalTeam: r.explainedByOriginalTeam,
      // Sealed: only the services entitled to the referral's key read it, and only while the key exists (ADR 14).
      patient: sealFor(key, r.id, ReferralRequestedV2.type, {
        nhsNumber: r.patient.nhsNumber,
        name: r.patient.name,
        ...(r.patient.email ? { email: r.patient.email } : {}),
        ...(r.patient.phone ? { phone: r.patient.phone } : {}),
        preferredChannel: r.patient.preferredChannel,
        ...(r.patient.mobile ? { mobile: r.patient.mobile } : {}),
        ...(r.patient.address ? { address: r.patient.address } : {}),
        ...(r.patient.contactPreferences ? { contactPreferences: r.patient.contactPreferences } : {}),
      }),
      requestedAt: r.createdAt.toISOString(),
    }),
  };
}

/** Rule 4: nothing is sent without a recorded lawful basis; the records go to the team the GP chose. */
async function requestRecordsTransfer(
  orm: MikroORM,
  keys: ReferralKeyStore,
  { referralId, target, traceparent }: { referralId: string; target?: TeamSnapshot; traceparent?: string },
): Promise<{ requested: boolean; at: string; transferId?: string }> {
  // Only what decides whether records may move (rule 4) and the attempt they belong to.
  const [snapshot] = await nativeQuery<{ consent: boolean; consent_at: Date | null; attempt: number }>(
    orm.em.fork(),
    `select records_sharing_consent as consent, consent_recorded_at as consent_at, attempt from referral where id = $1`,
    [referralId],
  );
  if (!snapshot) throw ApplicationFailure.nonRetryable(`referral ${referralId} not found`, 'ReferralNotFound');
  if (!snapshot.consent || !snapshot.consent_at) return { requested: false, at: new Date().toISOString() };
  const consentAt = new Date(snapshot.consent_at);
  const key = await sealingKey(orm, keys, referralId);
  // Ids of the first version (no target: one transfer per referral) stay as they were for replayed executions.
  const attempt = target ? Math.max(snapshot.attempt, 1) : 1;
  const transferId = deriveId(referralId, 'records-transfer', String(attempt));
  const eventId = stepId(target ? `records-transfer-requested-${attempt}` : 'records-transfer-requested');
  const { at } = await recordStep(
    orm,
    referralId,
    eventId,
    (r) => ({
      summary: target
        ? `Relevant test results and imaging requested from the original team for ${target.name}, with the patient's consent.`
        : "Relevant test results and imaging requested from the original team, with the patient's consent.",
      event: emission(RecordsTransferRequestedV2, {
        referralId: r.id,
        transferId,
        sourceOrganisation: r.originalTeamOds,
        targetOrganisation: target?.ods ?? null,
        documentKinds: target ? ['clinic-letters', 'test-results', 'imaging'] : ['test-results', 'imaging'],
        lawfulBasis: { basis: 'explicit-consent', recordedAt: consentAt.toISOString() },
        requestedAt: new Date().toISOString(),
        // What records-transfer needs to find the relevant records at the source and file them at the target.
        patient: sealFor(key, r.id, RecordsTransferRequestedV2.type, { nhsNumber: r.patient.nhsNumber }),
        specialty: r.specialty,
        ...(r.originalTeamId ? { sourceTeamId: r.originalTeamId } : {}),
        ...(target ? { targetTeamId: target.teamId } : {}),
        referringPractice: r.referringPractice,
      }),
    }),
    traceparent,
  );
  return { requested: true, at, transferId };
}

function urgentWaitEscalated(r: Referral, waitedMs: number, thresholdMs: number): StepEntry {
  return {
    summary:
      'Urgent referral without an appointment past its threshold: the original team and the GP were asked to consider treatment now.',
    event: emission(ReferralUrgentWaitEscalated, {
      referralId: r.id,
      waitedDays: Math.round((waitedMs / DAY_MS) * 10) / 10,
      thresholdDays: Math.round((thresholdMs / DAY_MS) * 10) / 10,
      originalTeam: originalTeam(r),
      referringPractice: r.referringPractice,
      message:
        'This urgent second-opinion referral has no appointment yet. Please consider whether any delay in starting treatment could affect the ' +
        "patient's wellbeing: treatment need not wait for the second opinion.",
    }),
  };
}
