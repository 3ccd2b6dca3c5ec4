import { parseTimerOverrides, timerPolicyFor } from './timer-policy';

const DAY = 24 * 60 * 60 * 1000;

describe('timer policy', () => {
  it('gives routine referrals the usual pace and no urgent escalation', () => {
    const p = timerPolicyFor('routine', 'cardiology', {});
    expect(p.steps['gp-decision']).toEqual({ dueMs: 14 * DAY, reminderBeforeMs: 3 * DAY });
    expect(p.urgentEscalationMs).toBeUndefined();
  });

  it('rule 10: gives urgent referrals short steps and an escalation threshold', () => {
    const p = timerPolicyFor('urgent', 'cardiology', {});
    expect(p.steps.triage.dueMs).toBe(3 * DAY);
    expect(p.urgentEscalationMs).toBe(14 * DAY);
  });

  it('applies overrides by urgency, then by specialty', () => {
    const overrides = parseTimerOverrides(
      JSON.stringify({
        urgent: { urgentEscalationDays: 10 },
        specialties: { oncology: { urgent: { urgentEscalationDays: 7, triage: { dueDays: 2 } } } },
      }),
    );
    expect(timerPolicyFor('urgent', 'cardiology', overrides).urgentEscalationMs).toBe(10 * DAY);
    const onc = timerPolicyFor('urgent', 'Oncology', overrides);
    expect(onc.urgentEscalationMs).toBe(7 * DAY);
    expect(onc.steps.triage.dueMs).toBe(2 * DAY);
    expect(onc.steps.booking.dueMs).toBe(7 * DAY);
  });

  it('never reminds earlier than the step began', () => {
    const p = timerPolicyFor(
      'routine',
      'x',
      parseTimerOverrides(JSON.stringify({ routine: { triage: { dueDays: 1, reminderDaysBefore: 5 } } })),
    );
    expect(p.steps.triage.reminderBeforeMs).toBe(DAY);
  });

  it('refuses a malformed override at boot', () => {
    expect(() => parseTimerOverrides(JSON.stringify({ routine: { triage: { dueDays: -1 } } }))).toThrow();
    expect(() => parseTimerOverrides(JSON.stringify({ weekly: {} }))).toThrow();
  });
});
