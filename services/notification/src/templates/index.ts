import { patientAcknowledgement, type PatientAcknowledgementData } from './patient-acknowledgement.template';
import * as patient from './patient.templates';
import * as gp from './gp.templates';
import * as team from './team.templates';
import type { UrgentWaitData } from './professional';
import type { RenderedMessage } from './rendered-message';

export type { RenderedMessage } from './rendered-message';
export type { PalsContact } from './pals';
export type { PatientAcknowledgementData } from './patient-acknowledgement.template';

/**
 * Every template by name, with the data it takes: one typed function per (event, recipient role). A template's
 * name is part of the notification id (exactly once per event, recipient, template), so a name never changes.
 */
export interface TemplateDataMap {
  'patient-acknowledgement': PatientAcknowledgementData;

  'patient-gp-declined': patient.PatientGpDeclinedData;
  'patient-referred': patient.PatientReferredData;
  'patient-triage-accepted': patient.PatientTriageAcceptedData;
  'patient-triage-rejected': patient.PatientTriageRejectedData;
  'patient-appointment-booked': patient.PatientAppointmentBookedData;
  'patient-opinion-issued': patient.PatientOpinionIssuedData;
  'patient-care-transferred': patient.PatientCareTransferredData;
  'patient-care-retained': patient.PatientCareRetainedData;
  'patient-withdrawn': patient.PatientWithdrawnData;

  'gp-triage-accepted': gp.GpTriageAcceptedData;
  'gp-triage-rejected': gp.GpTriageRejectedData;
  'gp-more-info-requested': gp.GpMoreInfoRequestedData;
  'gp-opinion-issued': gp.GpOpinionIssuedData;
  'gp-care-transferred': gp.GpCareTransferredData;
  'gp-care-retained': gp.GpCareRetainedData;
  'gp-withdrawn': gp.GpWithdrawnData;
  'gp-urgent-wait-escalated': UrgentWaitData;
  'gp-reminder': gp.GpReminderData;
  'gp-referral-closed': gp.GpReferralClosedData;
  'gp-records-gaps': gp.GpRecordsGapsData;

  'receiving-team-new-referral': team.ReceivingTeamNewReferralData;
  'receiving-team-more-info-provided': team.ReceivingTeamMoreInfoProvidedData;
  'receiving-team-care-transfer-requested': team.ReceivingTeamCareTransferRequestedData;
  'receiving-team-withdrawn': team.TeamWithdrawnData;
  'receiving-team-reminder': team.ReceivingTeamReminderData;
  'receiving-team-records-gaps': team.ReceivingTeamRecordsGapsData;

  'original-team-informed': team.OriginalTeamInformedData;
  'original-team-opinion-issued': team.OriginalTeamOpinionIssuedData;
  'original-team-care-transferred': team.OriginalTeamCareTransferredData;
  'original-team-urgent-wait-escalated': UrgentWaitData;
  'original-team-withdrawn': team.TeamWithdrawnData;
}
export type TemplateName = keyof TemplateDataMap;

const templates: { readonly [K in TemplateName]: (data: TemplateDataMap[K]) => RenderedMessage } = {
  'patient-acknowledgement': patientAcknowledgement,

  'patient-gp-declined': patient.patientGpDeclined,
  'patient-referred': patient.patientReferred,
  'patient-triage-accepted': patient.patientTriageAccepted,
  'patient-triage-rejected': patient.patientTriageRejected,
  'patient-appointment-booked': patient.patientAppointmentBooked,
  'patient-opinion-issued': patient.patientOpinionIssued,
  'patient-care-transferred': patient.patientCareTransferred,
  'patient-care-retained': patient.patientCareRetained,
  'patient-withdrawn': patient.patientWithdrawn,

  'gp-triage-accepted': gp.gpTriageAccepted,
  'gp-triage-rejected': gp.gpTriageRejected,
  'gp-more-info-requested': gp.gpMoreInfoRequested,
  'gp-opinion-issued': gp.gpOpinionIssued,
  'gp-care-transferred': gp.gpCareTransferred,
  'gp-care-retained': gp.gpCareRetained,
  'gp-withdrawn': gp.gpWithdrawn,
  'gp-urgent-wait-escalated': gp.gpUrgentWaitEscalated,
  'gp-reminder': gp.gpReminder,
  'gp-referral-closed': gp.gpReferralClosed,
  'gp-records-gaps': gp.gpRecordsGaps,

  'receiving-team-new-referral': team.receivingTeamNewReferral,
  'receiving-team-more-info-provided': team.receivingTeamMoreInfoProvided,
  'receiving-team-care-transfer-requested': team.receivingTeamCareTransferRequested,
  'receiving-team-withdrawn': team.receivingTeamWithdrawn,
  'receiving-team-reminder': team.receivingTeamReminder,
  'receiving-team-records-gaps': team.receivingTeamRecordsGaps,

  'original-team-informed': team.originalTeamInformed,
  'original-team-opinion-issued': team.originalTeamOpinionIssued,
  'original-team-care-transferred': team.originalTeamCareTransferred,
  'original-team-urgent-wait-escalated': team.originalTeamUrgentWaitEscalated,
  'original-team-withdrawn': team.originalTeamWithdrawn,
};

export const TEMPLATE_NAMES = Object.keys(templates) as TemplateName[];

export function renderTemplate<K extends TemplateName>(name: K, data: TemplateDataMap[K]): RenderedMessage {
  return templates[name](data);
}

/** A template and its data, kept together so a decision can be rendered later (and compared in tests). */
export type TemplateRequest = { [K in TemplateName]: { readonly template: K; readonly data: TemplateDataMap[K] } }[TemplateName];

export function renderRequest(request: TemplateRequest): RenderedMessage {
  // The union pairs each name with its own data; TypeScript cannot follow that through the lookup.
  const render = templates[request.template] as (data: TemplateRequest['data']) => RenderedMessage;
  return render(request.data);
}
