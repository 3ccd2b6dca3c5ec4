import { ukDate, ukDateTime, ukTime } from './format';
import { palsSection } from './pals';
import { renderTemplate, TEMPLATE_NAMES } from './index';

const pals = {
  phone: '01632 960 123',
  email: 'pals@trust.nhs.invalid',
  url: 'https://trust.nhs.invalid/pals',
  openingHours: 'Monday to Friday, 9am to 5pm',
};
const REFERRAL_ID = '5b8e7a57-6d3c-4f1e-8a55-2a1f7c3d9e10';

describe('dates and times', () => {
  it('spells the date out and gives the time in UK local time: British Summer Time', () => {
    expect(ukDateTime('2026-07-01T13:30:00.000Z')).toBe('Wednesday 1 July 2026 at 2:30pm (UK time)');
  });

  it('spells the date out and gives the time in UK local time: Greenwich Mean Time', () => {
    expect(ukDateTime('2026-12-01T09:00:00.000Z')).toBe('Tuesday 1 December 2026 at 9am (UK time)');
  });

  it('moves to the next day when UK time has passed midnight', () => {
    expect(ukDate('2026-10-24T23:30:00.000Z')).toBe('Sunday 25 October 2026'); // still BST
    expect(ukTime('2026-10-24T23:30:00.000Z')).toBe('12:30am');
    expect(ukDate('2026-12-31T23:30:00.000Z')).toBe('Thursday 31 December 2026'); // GMT
  });

  it('says midday and midnight', () => {
    expect(ukTime('2026-12-01T12:00:00.000Z')).toBe('midday');
    expect(ukTime('2026-12-01T00:00:00.000Z')).toBe('midnight');
  });
});

describe('the PALS paragraph', () => {
  it('names the service when the event gives a specific name, and not twice when it is the generic one', () => {
    expect(palsSection({ ...pals, name: 'PALS, General Hospital' })).toContain('  PALS, General Hospital\n');
    const generic = palsSection({ ...pals, name: 'Patient Advice and Liaison Service (PALS)' });
    expect(generic.match(/Patient Advice and Liaison Service/g)).toHaveLength(1);
  });

  it('gives the opening hours when they are known', () => {
    expect(palsSection(pals)).toContain('Phone: 01632 960 123 (Monday to Friday, 9am to 5pm)');
    expect(palsSection({ ...pals, openingHours: undefined })).toContain('Phone: 01632 960 123\n');
  });
});

describe('when the GP refers the patient (patient-referred)', () => {
  const referred = (changes: { attempt?: number; urgent?: boolean; distanceKm?: number } = {}) =>
    renderTemplate('patient-referred', {
      patientName: 'Alex Example',
      pals,
      targetTeamName: 'Cardiology, City Hospital',
      originalTeamName: 'Cardiology, General Hospital',
      specialty: 'cardiology',
      urgent: false,
      distanceKm: 19.3,
      triageDueAt: '2026-12-08T17:00:00.000Z',
      attempt: 1,
      ...changes,
    });

  it('says which team, how far, and that it is a new referral they assess like any other', () => {
    const { subject, text } = referred();
    expect(subject).toBe('You have been referred for a second opinion');
    expect(text).toContain('Team: Cardiology, City Hospital');
    expect(text).toContain('Distance: about 19 km (12 miles) from your GP practice');
    expect(text).toContain('It is a new referral, so they will assess it as they would any new patient referral.');
    expect(text).toContain('They aim to decide by Tuesday 8 December 2026.');
  });

  it('says it may be at another hospital, that the new team does not automatically take over care, and who stays responsible', () => {
    const { text } = referred();
    expect(text).toContain('may be at a different hospital from the one you usually go to, which may mean more travelling');
    expect(text).toContain('The new clinical team will not automatically take over your care.');
    expect(text).toContain('your current clinical team (Cardiology, General Hospital) is still responsible for your care');
    expect(text).toContain('Their opinion may be the same as the first one.');
  });

  it('explains a new referral after a team could not accept the first one', () => {
    expect(referred({ attempt: 2 }).text).toContain('because the team your GP referred you to before was not able to accept it');
    expect(referred().text).not.toContain('was not able to accept it');
  });

  it('for an urgent referral, tells the patient treatment need not wait (rule 10)', () => {
    expect(referred({ urgent: true }).text).toContain('Treatment does not need to wait for the second opinion.');
  });
});

describe('the appointment (patient-appointment-booked)', () => {
  it('gives the date spelled out, the UK time and the site', () => {
    const { text } = renderTemplate('patient-appointment-booked', {
      patientName: 'Alex Example',
      pals,
      teamName: 'Cardiology, City Hospital',
      siteName: 'City Hospital, Outpatients Building',
      appointmentAt: '2027-06-15T08:45:00.000Z',
    });
    expect(text).toContain('When: Tuesday 15 June 2027 at 9:45am (UK time)');
    expect(text).toContain('Where: City Hospital, Outpatients Building');
  });
});

describe('the opinion (patient-opinion-issued)', () => {
  const opinion = (outcome: 'concurs' | 'differs' | 'partially-differs') =>
    renderTemplate('patient-opinion-issued', {
      patientName: 'Alex Example',
      pals,
      teamName: 'Cardiology, City Hospital',
      originalTeamName: 'Cardiology, General Hospital',
      outcome,
      summary: 'Line one of the summary.\nLine two.',
      sharedWithOriginalTeam: true,
    }).text;

  it('rule 8: says plainly whether it is the same as the first, and gives the summary', () => {
    expect(opinion('concurs')).toContain('Their opinion is the same as the first opinion you were given.');
    expect(opinion('differs')).toContain('Their opinion is different from the first opinion you were given.');
    expect(opinion('partially-differs')).toContain('agrees with the first opinion you were given in some ways and differs in others');
    expect(opinion('concurs')).toContain('  Line one of the summary.\n  Line two.');
  });
});

describe('a new referral to the receiving team', () => {
  it('rule 3: is flagged SECOND OPINION, with urgency, the first team and when triage is due, and no patient contact details', () => {
    const { subject, text } = renderTemplate('receiving-team-new-referral', {
      referralId: REFERRAL_ID,
      patientName: 'Alex Example',
      specialty: 'cardiology',
      urgent: false,
      referringPractice: 'A81001',
      originalTeamName: 'Cardiology, General Hospital',
      triageDueAt: '2026-12-08T17:00:00.000Z',
      attempt: 1,
    });
    expect(subject).toBe('New referral for a SECOND OPINION (5b8e7a57)');
    expect(text).toContain('referral for a SECOND OPINION');
    expect(text).toContain('Urgency: routine');
    expect(text).toContain('First opinion given by: Cardiology, General Hospital');
    expect(text).toContain('Triage is due by Tuesday 8 December 2026 at 5pm (UK time).');
    expect(text).toContain('as you would any new patient referral');
    expect(text).toContain(`Referral reference: ${REFERRAL_ID}`);
  });
});

describe('every template', () => {
  it('is registered under a name prefixed by its recipient role', () => {
    for (const name of TEMPLATE_NAMES) expect(name).toMatch(/^(patient|gp|receiving-team|original-team)-/);
  });
});
