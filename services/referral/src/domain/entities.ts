import { defineEntity, p } from '@mikro-orm/core';
import { contactChannelSchema, opinionOutcomeSchema, urgencySchema, type ContactChannel, type PostalAddress } from '@sonet/contracts';
import { REFERRAL_STATES } from './referral-state';

/**
 * The patient as described in one referral: the details the referring practice gave with its request, kept
 * with that referral (ADR 12). One row per referral, never shared, so nothing one organisation sends can alter
 * what another recorded; the NHS number (not unique here) is what links a patient's referrals.
 * Identifiers stay in this table; events carry them only where needed.
 */
export const PatientSchema = defineEntity({
  name: 'Patient',
  tableName: 'patient',
  properties: {
    id: p.uuid().primary(),
    nhsNumber: p.string().length(10).index(),
    name: p.string().length(200),
    email: p.string().length(320).nullable(),
    phone: p.string().length(32).nullable(),
    preferredChannel: p.enum(contactChannelSchema.options),
    /** UK mobile, E.164. */
    mobile: p.string().length(16).nullable(),
    address: p.json<PostalAddress>().nullable(),
    /** Most preferred first; null for requests made before preferences were asked (preferredChannel only). */
    contactPreferences: p.json<ContactChannel[]>().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});
export class Patient extends PatientSchema.class {}
PatientSchema.setClass(Patient);

/** The referral read model: what lists and GET answer from. The workflow's activities keep it current. */
export const ReferralSchema = defineEntity({
  name: 'Referral',
  tableName: 'referral',
  properties: {
    id: p.uuid().primary(),
    patient: () => p.manyToOne(Patient),
    referringPractice: p.string().length(10),
    originalTeamOds: p.string().length(10),
    originalTeamName: p.string().length(200),
    /** Rule 5: stays the original team until a care transfer is agreed. */
    responsibleTeamOds: p.string().length(10),
    specialty: p.string().length(100),
    urgency: p.enum(urgencySchema.options),
    reason: p.text(),
    explainedByOriginalTeam: p.boolean(),
    recordsSharingConsent: p.boolean(),
    consentRecordedAt: p.datetime().nullable(),
    state: p.enum(REFERRAL_STATES),
    workflowId: p.string().length(100),
    originalTeamId: p.string().length(64).nullable(),
    originalTeamEmail: p.string().length(320).nullable(),
    referringPracticeEmail: p.string().length(320).nullable(),
    targetTeamId: p.string().length(64).nullable(),
    targetTeamOds: p.string().length(10).nullable(),
    targetTeamName: p.string().length(200).nullable(),
    targetTeamEmail: p.string().length(320).nullable(),
    targetSiteName: p.string().length(200).nullable(),
    distanceKm: p.double().$type<number>().nullable(),
    /** How many teams have been asked. */
    attempt: p.integer().default(0),
    /** The workflow's revision after its last recorded decision: the API's ETag. */
    revision: p.integer().default(0),
    dueAt: p.datetime().nullable(),
    dueStep: p.string().nullable(),
    appointmentAt: p.datetime().nullable(),
    appointmentSiteOds: p.string().length(10).nullable(),
    appointmentSiteName: p.string().length(200).nullable(),
    opinionOutcome: p.enum(opinionOutcomeSchema.options).nullable(),
    originalTeamInformedAt: p.datetime().nullable(),
    closedAt: p.datetime().nullable(),
    /** W3C trace context of the request that created the referral: activities emit their events in this trace. */
    traceparent: p.string().length(55).nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
    version: p.integer().version(),
  },
});
export class Referral extends ReferralSchema.class {}
ReferralSchema.setClass(Referral);

/** One step in a referral's history, as shown to people. Keyed by the event id that recorded it, so retries add nothing. */
export const TimelineEntrySchema = defineEntity({
  name: 'TimelineEntry',
  tableName: 'referral_timeline',
  properties: {
    id: p.uuid().primary(),
    referral: () => p.manyToOne(Referral),
    at: p.datetime(),
    state: p.enum(REFERRAL_STATES),
    eventType: p.string().length(100),
    summary: p.string().length(500),
  },
});
export class TimelineEntry extends TimelineEntrySchema.class {}
TimelineEntrySchema.setClass(TimelineEntry);

export const referralEntities = [PatientSchema, ReferralSchema, TimelineEntrySchema];
