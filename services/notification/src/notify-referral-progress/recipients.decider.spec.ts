import {
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
  ReferralTriageAccepted,
  ReferralTriageRejected,
  ReferralUrgentWaitEscalated,
  ReferralWithdrawn,
  type EventDefinition,
} from '@sonet/contracts';
import { buildEvent, deriveId } from '@sonet/messaging';
import type { z } from 'zod';
import { palsContactFrom, readNotificationConfig } from '../config';
import type { ReferralContacts } from '../domain/referral-contacts';
import { REFERRAL_PROCESS_EVENT_TYPES, type ReferralProcessEvent, type ReferralProcessEventType } from '../domain/referral-process-event';
import { decideRecipients, planReferralProgress } from './recipients.decider';

const REFERRAL_ID = '5b8e7a57-6d3c-4f1e-8a55-2a1f7c3d9e10';
const NHS_NUMBER = '9434765919';

const defaults = {
  pals: palsContactFrom(
    readNotificationConfig({
      PALS_PHONE: '01632 960 999',
      PALS_EMAIL: 'pals@config.nhs.invalid',
      PALS_URL: 'https://config.nhs.invalid/pals',
    }),
  ),
};
/** The PALS contact the referral service puts on events that end a path. */
const EVENT_PALS = {
  name: 'PALS, General Hospital',
  phone: '01632 960 555',
  email: 'pals@general.nhs.invalid',
  url: 'https://general.nhs.invalid/pals',
};

const originalTeam = {
  ods: 'RX1',
  name: 'Cardiology, General Hospital',
  teamId: 'team-rx1-cardio',
  contactEmail: 'cardio@general.nhs.invalid',
};
const targetTeam = { ods: 'RY2', name: 'Cardiology, City Hospital', teamId: 'team-ry2-cardio', contactEmail: 'cardio@city.nhs.invalid' };
const actor = (role: 'patient' | 'gp' | 'clinician' | 'ops' | 'system', organisation?: string) => ({
  role,
  ...(organisation ? { organisation } : {}),
});

/** The contacts after referral.requested.v1 and referral.referred.v1 (target chosen). */
const contacts: ReferralContacts = {
  referralId: REFERRAL_ID,
  urgency: 'routine',
  patient: { name: 'Alex Example', email: 'alex@example.test', mobile: '+447700900123', preferences: ['email'] },
  gp: { ods: 'A81001', email: 'gp.a81001@nhs.invalid' },
  originalTeam: { name: originalTeam.name, ods: originalTeam.ods, teamId: originalTeam.teamId, email: originalTeam.contactEmail },
  originalTeamInformed: false,
  targetTeam: { name: targetTeam.name, ods: targetTeam.ods, teamId: targetTeam.teamId, email: targetTeam.contactEmail },
  targetAttempt: 1,
};
const beforeReferral: ReferralContacts = { ...contacts, targetTeam: undefined, targetAttempt: undefined };

let n = 0;
const ev = <D extends EventDefinition>(def: D, data: z.input<D['schema']>): ReferralProcessEvent =>
  buildEvent(def, {
    id: `3f0c9a51-93d6-4c39-9d7e-0b0a0ab1${String(++n).padStart(4, '0')}`,
    source: '/sonet/referral',
    subject: REFERRAL_ID,
    data,
  }) as unknown as ReferralProcessEvent;

/** One example of every process event; the Record type makes a new event type fail to compile here. */
const examples: Record<ReferralProcessEventType, () => ReferralProcessEvent> = {
  'referral.gp-declined.v1': () =>
    ev(ReferralGpDeclined, {
      referralId: REFERRAL_ID,
      reason: 'Your symptoms are well explained by the current diagnosis.',
      declinedBy: actor('gp', 'A81001'),
      pals: EVENT_PALS,
      nextSteps: 'You can talk to your GP again about your concerns.',
    }),
  'referral.referred.v1': () =>
    ev(ReferralReferred, {
      referralId: REFERRAL_ID,
      secondOpinion: true,
      referringPractice: 'A81001',
      originalTeam,
      targetTeam,
      specialty: 'cardiology',
      urgency: 'routine',
      distanceKm: 19.3,
      triageDueAt: '2026-12-08T17:00:00.000Z',
      attempt: 1,
    }),
  'referral.triage-accepted.v1': () =>
    ev(ReferralTriageAccepted, { referralId: REFERRAL_ID, team: targetTeam, bookingDueAt: '2026-12-22T17:00:00.000Z' }),
  'referral.triage-rejected.v1': () =>
    ev(ReferralTriageRejected, {
      referralId: REFERRAL_ID,
      team: targetTeam,
      reason: 'This team does not see patients with this condition.',
      pals: EVENT_PALS,
      nextSteps: 'Your GP can refer you to another clinical team for a second opinion.',
    }),
  'referral.more-info-requested.v1': () =>
    ev(ReferralMoreInfoRequested, {
      referralId: REFERRAL_ID,
      team: targetTeam,
      question: 'Please send the latest echo report.',
      dueAt: '2026-12-10T17:00:00.000Z',
    }),
  'referral.more-info-provided.v1': () =>
    ev(ReferralMoreInfoProvided, {
      referralId: REFERRAL_ID,
      answer: 'Echo report attached to the records transfer.',
      triageDueAt: '2026-12-15T17:00:00.000Z',
    }),
  'referral.appointment-booked.v1': () =>
    ev(ReferralAppointmentBooked, {
      referralId: REFERRAL_ID,
      team: targetTeam,
      appointmentAt: '2027-01-12T14:30:00.000Z',
      site: { ods: 'RY201', name: 'City Hospital, Outpatients Building' },
    }),
  'referral.opinion-issued.v1': () =>
    ev(ReferralOpinionIssued, {
      referralId: REFERRAL_ID,
      team: targetTeam,
      outcome: 'concurs',
      summary: 'We agree with the diagnosis and the proposed treatment.',
      shareWithOriginalTeam: true,
      originalTeam,
    }),
  'referral.original-team-informed.v1': () =>
    ev(ReferralOriginalTeamInformed, { referralId: REFERRAL_ID, originalTeam, requestedBy: actor('patient') }),
  'referral.care-transfer-requested.v1': () =>
    ev(ReferralCareTransferRequested, { referralId: REFERRAL_ID, requestedBy: actor('patient'), team: targetTeam }),
  'referral.care-transferred.v1': () =>
    ev(ReferralCareTransferred, { referralId: REFERRAL_ID, responsibleTeam: targetTeam, previousTeam: originalTeam }),
  'referral.care-retained.v1': () =>
    ev(ReferralCareRetained, {
      referralId: REFERRAL_ID,
      responsibleTeam: originalTeam,
      reason: 'The new team has no capacity to take on new patients.',
      pals: EVENT_PALS,
    }),
  'referral.withdrawn.v1': () =>
    ev(ReferralWithdrawn, {
      referralId: REFERRAL_ID,
      withdrawnBy: actor('patient'),
      reason: 'I have decided to go ahead with treatment.',
      fromState: 'awaiting-triage',
      pals: EVENT_PALS,
    }),
  'referral.urgent-wait-escalated.v1': () =>
    ev(ReferralUrgentWaitEscalated, {
      referralId: REFERRAL_ID,
      waitedDays: 15,
      thresholdDays: 14,
      originalTeam,
      referringPractice: 'A81001',
      message: 'No appointment has been booked yet.',
    }),
  'referral.reminder-due.v1': () =>
    ev(ReferralReminderDue, {
      referralId: REFERRAL_ID,
      step: 'triage',
      dueAt: '2026-12-08T17:00:00.000Z',
      overdue: false,
      recipientRole: 'receiving-team',
    }),
  'referral.closed.v1': () => ev(ReferralClosed, { referralId: REFERRAL_ID, outcome: 'opinion-given', responsibleTeam: originalTeam }),
};

const decide = (event: ReferralProcessEvent, c: ReferralContacts = contacts) => decideRecipients(event, c, defaults);
const routes = (event: ReferralProcessEvent, c: ReferralContacts = contacts) =>
  decide(event, c).map((r) => `${r.recipientRole}: ${r.message.template}`);
const plans = (event: ReferralProcessEvent, c: ReferralContacts = contacts) => planReferralProgress(event, c, defaults);
const planFor = (event: ReferralProcessEvent, role: string, c: ReferralContacts = contacts) => {
  const found = plans(event, c).filter((p) => p.recipientRole === role);
  expect(found).toHaveLength(1);
  return found[0]!;
};

describe('who is told what about a referral', () => {
  it('routes every referral process event type', () => {
    expect(Object.keys(examples).sort()).toEqual([...REFERRAL_PROCESS_EVENT_TYPES].sort());
    for (const make of Object.values(examples)) expect(decide(make()).length).toBeGreaterThan(0);
  });

  it.each([
    ['referral.gp-declined.v1', ['patient: patient-gp-declined']],
    ['referral.referred.v1', ['patient: patient-referred', 'receiving-team: receiving-team-new-referral']],
    ['referral.triage-accepted.v1', ['patient: patient-triage-accepted', 'gp: gp-triage-accepted']],
    ['referral.triage-rejected.v1', ['patient: patient-triage-rejected', 'gp: gp-triage-rejected']],
    ['referral.more-info-requested.v1', ['gp: gp-more-info-requested']],
    ['referral.more-info-provided.v1', ['receiving-team: receiving-team-more-info-provided']],
    ['referral.appointment-booked.v1', ['patient: patient-appointment-booked']],
    [
      'referral.opinion-issued.v1',
      ['patient: patient-opinion-issued', 'gp: gp-opinion-issued', 'original-team: original-team-opinion-issued'],
    ],
    ['referral.original-team-informed.v1', ['original-team: original-team-informed']],
    ['referral.care-transfer-requested.v1', ['receiving-team: receiving-team-care-transfer-requested']],
    [
      'referral.care-transferred.v1',
      ['patient: patient-care-transferred', 'gp: gp-care-transferred', 'original-team: original-team-care-transferred'],
    ],
    ['referral.care-retained.v1', ['patient: patient-care-retained', 'gp: gp-care-retained']],
    ['referral.withdrawn.v1', ['patient: patient-withdrawn', 'gp: gp-withdrawn', 'receiving-team: receiving-team-withdrawn']],
    ['referral.urgent-wait-escalated.v1', ['gp: gp-urgent-wait-escalated', 'original-team: original-team-urgent-wait-escalated']],
    ['referral.reminder-due.v1', ['receiving-team: receiving-team-reminder']],
    ['referral.closed.v1', ['gp: gp-referral-closed']],
  ] as const)('%s → exactly %j', (type, expected) => {
    expect(routes(examples[type]())).toEqual(expected);
  });

  describe('addresses', () => {
    it('mails the patient, the GP practice and the teams at their own addresses', () => {
      const addresses = (event: ReferralProcessEvent) => Object.fromEntries(plans(event).map((p) => [p.recipientRole, p.address]));
      expect(addresses(examples['referral.care-transferred.v1']())).toEqual({
        patient: 'alex@example.test',
        gp: 'gp.a81001@nhs.invalid',
        'original-team': 'cardio@general.nhs.invalid',
      });
      expect(addresses(examples['referral.referred.v1']())).toEqual({
        patient: 'alex@example.test',
        'receiving-team': 'cardio@city.nhs.invalid',
      });
    });

    it('mails the newly chosen team at the address its referral carries, not the previous target', () => {
      const second = ev(ReferralReferred, {
        referralId: REFERRAL_ID,
        secondOpinion: true,
        referringPractice: 'A81001',
        originalTeam,
        targetTeam: { ods: 'RZ3', name: 'Cardiology, County Hospital', contactEmail: 'cardio@county.nhs.invalid' },
        specialty: 'cardiology',
        urgency: 'routine',
        triageDueAt: '2026-12-20T17:00:00.000Z',
        attempt: 2,
      });
      expect(planFor(second, 'receiving-team').address).toBe('cardio@county.nhs.invalid');
    });

    it('falls back to the address it knows for a team when the event names the team without one', () => {
      const { contactEmail: _omitted, ...withoutEmail } = targetTeam;
      const event = ev(ReferralCareTransferRequested, { referralId: REFERRAL_ID, requestedBy: actor('patient'), team: withoutEmail });
      expect(planFor(event, 'receiving-team').address).toBe('cardio@city.nhs.invalid');
    });

    it('records a recipient without an email address as no-address instead of failing', () => {
      const noGpEmail: ReferralContacts = { ...contacts, gp: { ods: 'A81001' } };
      expect(planFor(examples['referral.closed.v1'](), 'gp', noGpEmail)).toMatchObject({
        channel: 'email',
        address: null,
        status: 'no-address',
      });
      const noTarget: ReferralContacts = { ...contacts, targetTeam: undefined };
      expect(planFor(examples['referral.more-info-provided.v1'](), 'receiving-team', noTarget)).toMatchObject({
        address: null,
        status: 'no-address',
      });
    });

    it("keeps to the patient's own channels, in their order: SMS first, email only as the fallback they agreed to", () => {
      const sms: ReferralContacts = { ...contacts, patient: { ...contacts.patient, preferences: ['sms', 'email'] } };
      expect(planFor(examples['referral.gp-declined.v1'](), 'patient', sms)).toMatchObject({
        channel: 'sms',
        address: '+447700900123',
        status: 'pending',
        fallbacks: [{ channel: 'email', address: 'alex@example.test' }],
      });
      const smsOnly: ReferralContacts = { ...contacts, patient: { ...contacts.patient, preferences: ['sms'] } };
      expect(planFor(examples['referral.gp-declined.v1'](), 'patient', smsOnly)).toMatchObject({ channel: 'sms', fallbacks: [] });
    });

    it('texts the patient without clinical detail, and keeps the full message for email and letters', () => {
      const sms: ReferralContacts = { ...contacts, patient: { ...contacts.patient, preferences: ['sms', 'email'] } };
      const planned = planFor(examples['referral.gp-declined.v1'](), 'patient', sms);
      expect(planned?.smsText).toMatch(/^NHS second opinion \(ref [0-9A-F]{8}\): /);
      expect(planned?.bodyText).toContain('Why your GP made this decision');
      expect(planned?.smsText).not.toContain('decided not to refer');
    });
  });

  describe('exactly once per (event, recipient, template)', () => {
    it('derives each notification id from the event id, the recipient role and the template', () => {
      const event = examples['referral.opinion-issued.v1']();
      const planned = plans(event);
      expect(planned.map((p) => p.id)).toEqual(planned.map((p) => deriveId(event.id, p.recipientRole, p.template)));
      expect(new Set(planned.map((p) => p.id)).size).toBe(planned.length);
      expect(plans(event).map((p) => p.id)).toEqual(planned.map((p) => p.id));
    });
  });

  describe('rules', () => {
    it('rule 1: tells the patient why the GP declined and how to reach PALS', () => {
      const event = examples['referral.gp-declined.v1']();
      expect(routes(event, beforeReferral)).toEqual(['patient: patient-gp-declined']);
      const { bodyText } = planFor(event, 'patient', beforeReferral);
      expect(bodyText).toContain('Your symptoms are well explained by the current diagnosis.');
      expect(bodyText).toContain('You can talk to your GP again about your concerns.');
      expect(bodyText).toContain('Patient Advice and Liaison Service (PALS)');
      expect(bodyText).toContain(EVENT_PALS.phone);
    });

    it('rule 3: tells the receiving team the referral is for a SECOND OPINION, and its urgency', () => {
      const urgent = ev(ReferralReferred, {
        referralId: REFERRAL_ID,
        secondOpinion: true,
        referringPractice: 'A81001',
        originalTeam,
        targetTeam,
        specialty: 'cardiology',
        urgency: 'urgent',
        triageDueAt: '2026-12-08T17:00:00.000Z',
        attempt: 1,
      });
      const { subject, bodyText } = planFor(urgent, 'receiving-team', beforeReferral);
      expect(subject).toContain('SECOND OPINION');
      expect(subject).toContain('URGENT');
      expect(bodyText).toContain('Urgency: URGENT');
    });

    it("rule 3: does not tell the original team when the GP refers (that is the patient's choice, rule 9)", () => {
      expect(routes(examples['referral.referred.v1'](), beforeReferral)).not.toContainEqual(expect.stringMatching(/^original-team/));
    });

    it('rule 5: tells the patient, the GP and the original team when care is transferred', () => {
      expect(routes(examples['referral.care-transferred.v1']())).toEqual([
        'patient: patient-care-transferred',
        'gp: gp-care-transferred',
        'original-team: original-team-care-transferred',
      ]);
      expect(planFor(examples['referral.care-transferred.v1'](), 'original-team').bodyText).toContain('instead of your team');
    });

    it('rule 5: tells the patient, with PALS, and the GP when care stays with the original team', () => {
      const event = examples['referral.care-retained.v1']();
      expect(routes(event)).toEqual(['patient: patient-care-retained', 'gp: gp-care-retained']);
      const { bodyText } = planFor(event, 'patient');
      expect(bodyText).toContain('The new team has no capacity to take on new patients.');
      expect(bodyText).toContain(`your current clinical team (${originalTeam.name})`);
    });

    it('rule 6: tells the patient and the GP why the team rejected it, and that the GP may choose another team', () => {
      const event = examples['referral.triage-rejected.v1']();
      expect(routes(event)).toEqual(['patient: patient-triage-rejected', 'gp: gp-triage-rejected']);
      expect(planFor(event, 'patient').bodyText).toContain('Your GP may choose to refer you to another clinical team');
      const gp = planFor(event, 'gp').bodyText;
      expect(gp).toContain('This team does not see patients with this condition.');
      expect(gp).toContain('You may refer the patient to another clinical team');
    });

    it("rule 8: shares the opinion with the patient, the GP and, with the patient's agreement, the original team", () => {
      const shared = examples['referral.opinion-issued.v1']();
      expect(routes(shared)).toContain('original-team: original-team-opinion-issued');
      for (const role of ['patient', 'gp', 'original-team']) {
        expect(planFor(shared, role).bodyText).toContain('We agree with the diagnosis and the proposed treatment.');
      }
      expect(planFor(shared, 'patient').bodyText).toContain('Their opinion is the same as the first opinion you were given.');
    });

    it("rule 8: does not send the opinion to the original team without the patient's agreement", () => {
      const notShared = ev(ReferralOpinionIssued, {
        referralId: REFERRAL_ID,
        team: targetTeam,
        outcome: 'differs',
        summary: 'We would suggest a different treatment.',
        shareWithOriginalTeam: false,
        originalTeam,
      });
      expect(routes(notShared)).toEqual(['patient: patient-opinion-issued', 'gp: gp-opinion-issued']);
      expect(planFor(notShared, 'patient').bodyText).toContain('It has not been sent to your current clinical team');
    });

    it("rule 9: tells the original team, at the patient's choice, that a second opinion is under way", () => {
      const event = examples['referral.original-team-informed.v1']();
      expect(routes(event)).toEqual(['original-team: original-team-informed']);
      const plan = planFor(event, 'original-team');
      expect(plan.address).toBe('cardio@general.nhs.invalid');
      expect(plan.bodyText).toContain(`Their GP has referred them to ${targetTeam.name}.`);
      expect(plan.bodyText).toContain("Your team remains responsible for the patient's care");
    });

    it('rule 9: tells the original team of a withdrawal only if it had been told of the second opinion', () => {
      const event = examples['referral.withdrawn.v1']();
      expect(routes(event)).not.toContain('original-team: original-team-withdrawn');
      expect(routes(event, { ...contacts, originalTeamInformed: true })).toContain('original-team: original-team-withdrawn');
    });

    it('rule 10: escalates an urgent wait to the original team and the GP, asking them to consider whether delay could harm the patient', () => {
      const event = examples['referral.urgent-wait-escalated.v1']();
      expect(routes(event)).toEqual(['gp: gp-urgent-wait-escalated', 'original-team: original-team-urgent-wait-escalated']);
      for (const role of ['gp', 'original-team']) {
        const { bodyText } = planFor(event, role);
        expect(bodyText).toContain("whether any delay in starting treatment could affect the patient's wellbeing");
        expect(bodyText).toContain('Treatment need not wait for the second opinion.');
        expect(bodyText).toContain('15 days');
        expect(bodyText).toContain('14 days');
      }
    });

    const endPaths: ReferralProcessEventType[] = [
      'referral.gp-declined.v1',
      'referral.triage-rejected.v1',
      'referral.withdrawn.v1',
      'referral.care-retained.v1',
    ];

    it.each(endPaths)('rule 11: every end-path message to the patient carries PALS contact (%s)', (type) => {
      const { bodyText } = planFor(examples[type](), 'patient');
      expect(bodyText).toContain(
        'you can contact the Patient Advice and Liaison Service (PALS). They can listen to your concerns and help you:',
      );
      expect(bodyText).toContain(EVENT_PALS.name);
      expect(bodyText).toContain(EVENT_PALS.phone);
      expect(bodyText).toContain(EVENT_PALS.email);
      expect(bodyText).toContain(EVENT_PALS.url);
    });

    it('rule 11: every other message to the patient ends with the configured PALS contact', () => {
      const others = (Object.keys(examples) as ReferralProcessEventType[]).filter((t) => !endPaths.includes(t));
      const patientPlans = others.flatMap((t) => plans(examples[t]()).filter((p) => p.recipientRole === 'patient'));
      expect(patientPlans.length).toBeGreaterThanOrEqual(5);
      for (const p of patientPlans) {
        expect(p.bodyText).toContain('Patient Advice and Liaison Service (PALS)');
        expect(p.bodyText).toContain('01632 960 999');
      }
    });
  });

  describe('withdrawal', () => {
    it('tells the receiving team only once the GP has chosen one', () => {
      expect(routes(examples['referral.withdrawn.v1'](), beforeReferral)).toEqual(['patient: patient-withdrawn', 'gp: gp-withdrawn']);
    });
  });

  describe('reminders', () => {
    it('go to the GP or the receiving team, as the event says', () => {
      const toGp = ev(ReferralReminderDue, {
        referralId: REFERRAL_ID,
        step: 'gp-decision',
        dueAt: '2026-12-01T17:00:00.000Z',
        overdue: true,
        recipientRole: 'gp',
      });
      expect(routes(toGp)).toEqual(['gp: gp-reminder']);
      expect(planFor(toGp, 'gp').bodyText).toContain('is overdue');
      expect(routes(examples['referral.reminder-due.v1']())).toEqual(['receiving-team: receiving-team-reminder']);
    });
  });

  describe('privacy', () => {
    it("never puts the patient's name in a subject line", () => {
      for (const make of Object.values(examples)) {
        for (const p of plans(make(), { ...contacts, originalTeamInformed: true })) expect(p.subject).not.toContain('Alex');
      }
    });

    it('never needs the NHS number: contacts do not hold it and no message contains it', () => {
      for (const make of Object.values(examples)) {
        for (const p of plans(make())) expect(`${p.subject}${p.bodyText}`.replace(/\s/g, '')).not.toContain(NHS_NUMBER);
      }
    });
  });
});
