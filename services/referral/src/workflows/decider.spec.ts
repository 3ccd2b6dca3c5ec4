import {
  allowedActions,
  checkDecision,
  DecisionRejected,
  isTerminal,
  nextState,
  waitingStepOf,
  type DecisionAction,
  type DecisionContext,
} from './decider';
import type { ReferralState } from '../domain/referral-state';

const team = (teamId: string) => ({ teamId, ods: 'RTH01', name: 'Cardiology', siteName: 'County General' });
const given = (state: ReferralState, over: Partial<DecisionContext> = {}): DecisionContext => ({
  state,
  originalTeamId: 'RJ122-CARD',
  originalTeamInformed: false,
  ...over,
});
const when = (ctx: DecisionContext, action: DecisionAction) => {
  checkDecision(ctx, action);
  return nextState(ctx, action);
};
const refused = (ctx: DecisionContext, action: DecisionAction): DecisionRejected => {
  try {
    checkDecision(ctx, action);
  } catch (e) {
    return e as DecisionRejected;
  }
  throw new Error('expected the decision to be refused');
};

describe('the second-opinion state machine', () => {
  describe('when the GP reviews the request', () => {
    it('rule 3: refers to a different clinical team, as a new referral awaiting triage', () => {
      expect(when(given('gp-review'), { type: 'refer', targetTeam: team('RTH01-CARD') })).toBe('awaiting-triage');
    });

    it('rule 3: refuses to refer to the team that gave the first opinion', () => {
      expect(refused(given('gp-review'), { type: 'refer', targetTeam: team('RJ122-CARD') }).reason).toBe('same-team');
    });

    it('rule 1: may decline, which ends the process', () => {
      const s = when(given('gp-review'), { type: 'decline', reason: 'no new information to review' });
      expect(s).toBe('declined');
      expect(isTerminal(s)).toBe(true);
    });
  });

  describe('when the receiving team triages', () => {
    const triage = given('awaiting-triage', { targetTeamId: 'RTH01-CARD' });

    it('rule 6: accepts it like any new referral', () => {
      expect(when(triage, { type: 'triage-accept' })).toBe('accepted');
    });

    it('rule 6: a rejection goes back to the GP, who may pick another team but not the same one again', () => {
      const s = when(triage, { type: 'triage-reject', reason: 'not our specialty' });
      expect(s).toBe('rejected-by-team');
      const back = given(s, { targetTeamId: 'RTH01-CARD' });
      expect(allowedActions(back)).toEqual(expect.arrayContaining(['refer', 'decline']));
      expect(refused(back, { type: 'refer', targetTeam: team('RTH01-CARD') }).reason).toBe('same-team');
      expect(when(back, { type: 'refer', targetTeam: team('RXF05-CARD') })).toBe('awaiting-triage');
    });

    it('rule 6: asks for more information, and triage resumes when the GP answers', () => {
      const s = when(triage, { type: 'request-info', question: 'latest echo?' });
      expect(s).toBe('more-info-requested');
      expect(when(given(s), { type: 'provide-info', answer: 'attached' })).toBe('awaiting-triage');
    });

    it('cannot be triaged before the GP has referred', () => {
      expect(refused(given('gp-review'), { type: 'triage-accept' }).reason).toBe('not-allowed-in-state');
    });
  });

  describe('after acceptance', () => {
    it('books an appointment, then gives the opinion', () => {
      const booked = when(given('accepted'), {
        type: 'book-appointment',
        appointmentAt: '2026-12-01T10:00:00Z',
        site: { ods: 'RTH01', name: 'County General' },
      });
      expect(booked).toBe('appointment-booked');
      expect(
        when(given(booked), {
          type: 'issue-opinion',
          outcome: 'concurs',
          summary: 'same as the first opinion',
          shareWithOriginalTeam: false,
        }),
      ).toBe('opinion-issued');
    });

    it('rule 8: accepts an opinion that is the same as the first', () => {
      expect(() =>
        checkDecision(given('appointment-booked'), {
          type: 'issue-opinion',
          outcome: 'concurs',
          summary: 's',
          shareWithOriginalTeam: true,
        }),
      ).not.toThrow();
    });

    it('cannot give an opinion before an appointment', () => {
      expect(
        refused(given('accepted'), { type: 'issue-opinion', outcome: 'differs', summary: 's', shareWithOriginalTeam: false }).reason,
      ).toBe('not-allowed-in-state');
    });
  });

  describe('care after the opinion', () => {
    it('rule 5: a care transfer is a separate request, that the new team may accept or not', () => {
      expect(allowedActions(given('appointment-booked'))).not.toContain('request-care-transfer');
      const requested = when(given('opinion-issued'), { type: 'request-care-transfer' });
      expect(requested).toBe('care-transfer-requested');
      expect(when(given(requested), { type: 'care-transfer-decision', accept: true })).toBe('care-transferred');
      expect(when(given(requested), { type: 'care-transfer-decision', accept: false, reason: 'capacity' })).toBe('care-retained');
    });
  });

  describe('informing the original team', () => {
    it('rule 9: is possible while the request is open, and only once', () => {
      expect(allowedActions(given('awaiting-triage'))).toContain('inform-original-team');
      expect(when(given('awaiting-triage'), { type: 'inform-original-team' })).toBe('awaiting-triage');
      expect(allowedActions(given('awaiting-triage', { originalTeamInformed: true }))).not.toContain('inform-original-team');
    });
  });

  describe('withdrawal', () => {
    const open: ReferralState[] = [
      'requested',
      'gp-review',
      'rejected-by-team',
      'awaiting-triage',
      'more-info-requested',
      'accepted',
      'appointment-booked',
      'opinion-issued',
      'care-transfer-requested',
    ];

    it.each(open)('is possible from %s', (state) => {
      expect(when(given(state), { type: 'withdraw' })).toBe('withdrawn');
    });

    it.each(['declined', 'withdrawn', 'closed'] as ReferralState[])('is not possible once the process ended (%s)', (state) => {
      expect(allowedActions(given(state))).toEqual([]);
      expect(refused(given(state), { type: 'withdraw' }).reason).toBe('not-allowed-in-state');
    });
  });

  describe('allowed decisions, as read from the transition catalogue', () => {
    // What callers see in 409 answers and in the status, in this order ('requested', which lasts until the
    // request is recorded, listed withdraw first before the catalogue; every other state is as it was).
    it.each([
      ['requested', ['inform-original-team', 'withdraw']],
      ['gp-review', ['refer', 'decline', 'inform-original-team', 'withdraw']],
      ['rejected-by-team', ['refer', 'decline', 'inform-original-team', 'withdraw']],
      ['awaiting-triage', ['triage-accept', 'triage-reject', 'request-info', 'inform-original-team', 'withdraw']],
      ['more-info-requested', ['provide-info', 'inform-original-team', 'withdraw']],
      ['accepted', ['book-appointment', 'inform-original-team', 'withdraw']],
      ['appointment-booked', ['issue-opinion', 'book-appointment', 'inform-original-team', 'withdraw']],
      ['opinion-issued', ['request-care-transfer', 'inform-original-team', 'withdraw']],
      ['care-transfer-requested', ['care-transfer-decision', 'withdraw']],
      ['care-transferred', []],
      ['care-retained', []],
    ] as [ReferralState, string[]][])('%s allows %j', (state, expected) => {
      expect(allowedActions(given(state))).toEqual(expected);
    });
  });

  describe('due steps', () => {
    it('names what each waiting state is waiting for', () => {
      expect(waitingStepOf('gp-review')).toBe('gp-decision');
      expect(waitingStepOf('rejected-by-team')).toBe('gp-decision');
      expect(waitingStepOf('awaiting-triage')).toBe('triage');
      expect(waitingStepOf('more-info-requested')).toBe('more-info');
      expect(waitingStepOf('accepted')).toBe('booking');
      expect(waitingStepOf('appointment-booked')).toBe('opinion');
      expect(waitingStepOf('opinion-issued')).toBeUndefined();
    });
  });
});
