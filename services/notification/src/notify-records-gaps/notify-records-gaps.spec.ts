import { createEnvelope, RecordsGapsDetected } from '@sonet/contracts';
import { planRecordsGaps, type RecordsGapsEvent } from './notify-records-gaps.handler';
import type { ReferralContacts } from '../domain/referral-contacts';

const REFERRAL_ID = '5b8e7a57-6d3c-4f1e-8a55-2a1f7c3d9e10';
const event = createEnvelope({
  id: '0f3c7a57-6d3c-4f1e-8a55-2a1f7c3d9e11',
  type: RecordsGapsDetected.type,
  source: '/sonet/records-transfer',
  subject: REFERRAL_ID,
  data: {
    referralId: REFERRAL_ID,
    transferId: '1f3c7a57-6d3c-4f1e-8a55-2a1f7c3d9e12',
    sourceOrganisation: 'RJ122',
    targetOrganisation: 'RTH01',
    gaps: [
      {
        reference: 'ImagingStudy/1020 (study 2.25.4000002)',
        referencedBy: 'DiagnosticReport/1025',
        kind: 'imaging-study',
        reason: "the study's images are not in the PACS",
      },
      {
        reference: 'Binary/demo-x',
        referencedBy: 'DocumentReference/1018',
        kind: 'attachment',
        reason: "the document's file is not at the source",
      },
    ],
  },
}) as RecordsGapsEvent;

const contacts = {
  referralId: REFERRAL_ID,
  urgency: 'routine',
  patient: { name: 'Ann Example', email: 'ann@example.org', preferredChannel: 'email' },
  gp: { email: 'a81001.referrals@gp.nhs.invalid' },
  originalTeam: { name: 'Cardiology, St Elsewhere' },
  targetTeam: { name: 'Cardiology, Pennine Royal', email: 'cardiology.rth01@calder-pennine.nhs.invalid' },
} as unknown as ReferralContacts;

describe('telling the GP and the receiving team about records that could not be sent (rule 4)', () => {
  const planned = planRecordsGaps(event, contacts);

  it('emails the referring GP and the receiving team, once each per event', () => {
    expect(planned.map((p) => [p.recipientRole, p.template, p.channel, p.address])).toEqual([
      ['gp', 'gp-records-gaps', 'email', 'a81001.referrals@gp.nhs.invalid'],
      ['receiving-team', 'receiving-team-records-gaps', 'email', 'cardiology.rth01@calder-pennine.nhs.invalid'],
    ]);
    expect(new Set(planned.map((p) => p.id)).size).toBe(2);
    expect(planRecordsGaps(event, contacts).map((p) => p.id)).toEqual(planned.map((p) => p.id));
  });

  it('lists each gap with what it is and why, and says whom to ask', () => {
    for (const p of planned) {
      expect(p.subject).toBe('Second opinion referral 5b8e7a57: 2 record(s) could not be sent');
      expect(p.bodyText).toContain("  - an imaging study (ImagingStudy/1020 (study 2.25.4000002)): the study's images are not in the PACS");
      expect(p.bodyText).toContain("  - a document file (Binary/demo-x): the document's file is not at the source");
      expect(p.bodyText).toContain('please ask Cardiology, St Elsewhere for them');
      expect(p.bodyText).toContain(`Referral reference: ${REFERRAL_ID}`);
    }
  });
});
