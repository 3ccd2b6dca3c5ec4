import { ReferralRequested, type EventEnvelope, type ReferralRequestedData } from '@sonet/contracts';
import { buildEvent, deriveId } from '@sonet/messaging';
import { readNotificationConfig } from '../config';
import { notificationIdFor } from '../domain/planned-notification';
import { palsContactFrom, planReferralRequested } from './acknowledge-referral-request.handler';

const config = readNotificationConfig({
  PALS_PHONE: '01632 960 999',
  PALS_EMAIL: 'pals@trust.nhs.invalid',
  PALS_URL: 'https://trust.nhs.invalid/pals',
});
const pals = palsContactFrom(config);

const NHS_NUMBER = '9434765919';

function referralRequested(patient: Partial<ReferralRequestedData['patient']> = {}, eventId = '3f0c9a51-93d6-4c39-9d7e-0b0a0ab1c001') {
  return buildEvent(ReferralRequested, {
    id: eventId,
    source: '/sonet/referral',
    subject: '5b8e7a57-6d3c-4f1e-8a55-2a1f7c3d9e10',
    data: {
      referralId: '5b8e7a57-6d3c-4f1e-8a55-2a1f7c3d9e10',
      referringPractice: 'A81001',
      originalTeam: { ods: 'RX1', name: 'Cardiology, General Hospital' },
      specialty: 'cardiology',
      urgency: 'routine',
      reason: 'Would like a second view on the proposed treatment',
      explainedByOriginalTeam: true,
      patient: { nhsNumber: NHS_NUMBER, name: 'Alex Example', email: 'alex@example.test', preferredChannel: 'email', ...patient },
      requestedAt: '2026-11-24T09:00:00.000Z',
    },
  }) as EventEnvelope<ReferralRequestedData>;
}

const onlyPlan = (event: EventEnvelope<ReferralRequestedData>) => {
  const plans = planReferralRequested(event, pals);
  expect(plans).toHaveLength(1);
  return plans[0]!;
};

describe('when a GP records a request for a second opinion', () => {
  describe('the patient acknowledgement', () => {
    it('is addressed to the patient with the patient-acknowledgement template', () => {
      const plan = onlyPlan(referralRequested());
      expect(plan).toMatchObject({
        recipientRole: 'patient',
        template: 'patient-acknowledgement',
        referralId: '5b8e7a57-6d3c-4f1e-8a55-2a1f7c3d9e10',
      });
      expect(plan.subject).toBe('We have received your request for a second opinion');
      expect(plan.bodyText).toMatch(/^Dear Alex Example,/);
    });

    it('rule 11: tells the patient how to reach PALS', () => {
      const { bodyText } = onlyPlan(referralRequested());
      expect(bodyText).toContain('Patient Advice and Liaison Service (PALS)');
      expect(bodyText).toContain('01632 960 999');
      expect(bodyText).toContain('pals@trust.nhs.invalid');
      expect(bodyText).toContain('https://trust.nhs.invalid/pals');
    });

    it('never contains the NHS number, in any spacing', () => {
      const { subject, bodyText } = onlyPlan(referralRequested());
      const digitsOnly = `${subject}\n${bodyText}`.replace(/\s/g, '');
      expect(digitsOnly).not.toContain(NHS_NUMBER);
    });

    it('keeps the name and clinical details out of the subject line', () => {
      const { subject } = onlyPlan(referralRequested());
      expect(subject).not.toContain('Alex');
      expect(subject.toLowerCase()).not.toContain('cardiology');
    });

    it('explains what happens next as the guidance does', () => {
      const { bodyText } = onlyPlan(referralRequested());
      expect(bodyText).toContain('Your GP will review your request and decide whether to refer you to a different clinical team');
      expect(bodyText).toContain('With your consent, they will also be sent any relevant test results or X-rays');
      expect(bodyText).toContain('will not automatically take over your care');
      expect(bodyText).toContain('ask whether any delay in starting treatment could affect your wellbeing');
    });
  });

  describe('exactly once per (event, recipient, template)', () => {
    it('derives the notification id from the event id, recipient role and template', () => {
      const event = referralRequested();
      expect(onlyPlan(event).id).toBe(deriveId(event.id, 'patient', 'patient-acknowledgement'));
    });

    it('derives the same id when the same event is delivered again', () => {
      expect(onlyPlan(referralRequested()).id).toBe(onlyPlan(referralRequested()).id);
    });

    it('derives a different id for a different event, recipient or template', () => {
      const a = onlyPlan(referralRequested({}, '3f0c9a51-93d6-4c39-9d7e-0b0a0ab1c001')).id;
      const b = onlyPlan(referralRequested({}, '3f0c9a51-93d6-4c39-9d7e-0b0a0ab1c002')).id;
      expect(a).not.toBe(b);
      const eventId = '3f0c9a51-93d6-4c39-9d7e-0b0a0ab1c001';
      expect(notificationIdFor(eventId, 'gp', 'patient-acknowledgement')).not.toBe(a);
    });
  });

  describe('channel selection', () => {
    it('sends by email when the patient prefers email and gave an address', () => {
      const plan = onlyPlan(referralRequested());
      expect(plan).toMatchObject({ channel: 'email', address: 'alex@example.test', status: 'pending' });
    });

    it('reads an older event (preferredChannel sms, free-form phone) as an SMS-only patient', () => {
      const plan = onlyPlan(referralRequested({ preferredChannel: 'sms', phone: '07700 900123' }));
      expect(plan).toMatchObject({ channel: 'sms', address: '07700 900123', status: 'pending', fallbacks: [] });
    });

    it('follows the ordered contact preferences, skipping a channel without an address and never adding one', () => {
      const plan = onlyPlan(
        referralRequested({
          preferredChannel: 'sms',
          contactPreferences: ['sms', 'letter', 'email'],
          address: { lines: ['1 High Street', 'Leeds'], postcode: 'LS1 4AP' },
          email: undefined,
        }),
      );
      expect(plan).toMatchObject({ channel: 'letter', address: 'Alex Example\n1 High Street\nLeeds\nLS1 4AP', status: 'pending' });
      expect(plan?.skipped).toEqual(['sms']);
      expect(plan?.fallbacks).toEqual([{ channel: 'email', address: null }]);
    });

    it('records a letter preference without an address as no-address, never falling back to email', () => {
      const plan = onlyPlan(referralRequested({ preferredChannel: 'letter' }));
      expect(plan).toMatchObject({ channel: 'letter', address: null, status: 'no-address' });
    });

    it('texts without clinical detail: a reference, what to do next, and PALS', () => {
      const plan = onlyPlan(referralRequested({ preferredChannel: 'sms', mobile: '+447700900001' }));
      expect(plan?.smsText).toMatch(/^NHS second opinion \(ref [0-9A-F]{8}\): We have received your request/);
      expect(plan?.smsText).toContain('PALS');
    });

    it('records an email preference without an address as no-address', () => {
      const plan = onlyPlan(referralRequested({ email: undefined }));
      expect(plan).toMatchObject({ channel: 'email', address: null, status: 'no-address' });
    });
  });
});
