import { backoffDelayMs, decideAfterFailure, type RetryPolicy } from './dispatch-notifications.handler';
import { messageIdFor, toSendError } from '../channels/email.sender';
import { redactAddresses, safeErrorMessage } from '../domain/redaction';

const policy: RetryPolicy = { maxAttempts: 4, backoffBaseMs: 1_000, backoffMaxMs: 5_000 };
const now = new Date('2026-11-24T10:00:00.000Z');

describe('when a send fails', () => {
  it('retries with exponential backoff, capped', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffDelayMs(a, policy))).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
  });

  it('schedules the next attempt after the backoff while attempts remain', () => {
    expect(decideAfterFailure(2, false, policy, now)).toEqual({ kind: 'retry', nextAttemptAt: new Date('2026-11-24T10:00:02.000Z') });
  });

  it('gives up after the last allowed attempt', () => {
    expect(decideAfterFailure(4, false, policy, now)).toEqual({ kind: 'give-up' });
  });

  it('gives up at once when the mail server rejects the message for good', () => {
    expect(decideAfterFailure(1, true, policy, now)).toEqual({ kind: 'give-up' });
  });
});

describe('SMTP errors', () => {
  it('treats a 5xx reply as permanent and a 4xx reply or network error as worth retrying', () => {
    expect(toSendError(Object.assign(new Error('Mailbox unavailable'), { responseCode: 550, code: 'EENVELOPE' })).permanent).toBe(true);
    expect(toSendError(Object.assign(new Error('Try again later'), { responseCode: 421 })).permanent).toBe(false);
    expect(toSendError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' })).permanent).toBe(false);
  });

  it('never carries the recipient address into stored or logged reasons', () => {
    const e = toSendError(
      Object.assign(new Error("Can't send mail - all recipients were rejected: 550 5.1.1 <alex.example@nhs.net>: unknown"), {
        responseCode: 550,
      }),
    );
    expect(e.message).not.toContain('alex.example@nhs.net');
    expect(e.message).toContain('[address]');
    expect(redactAddresses('to a.b+c@x.y.z, now')).toBe('to [address], now');
  });

  it('describes a database error without the failing row it quotes', () => {
    const dbError = Object.assign(
      new Error('new row violates check constraint "c"\n - detail: Failing row contains (x, alex@example.test, Dear Alex Example).'),
      { name: 'CheckConstraintViolationException', code: '23514', constraint: 'c' },
    );
    const safe = safeErrorMessage(dbError);
    expect(safe).toBe('[CheckConstraintViolationException 23514 c] new row violates check constraint "c"');
    expect(safe).not.toContain('Alex');
  });

  it('gives each notification a Message-ID derived from its id, so a re-send is recognisable', () => {
    expect(messageIdFor('0b7d2a4e-1111-4c39-9d7e-0b0a0ab1c001', 'second-opinion.nhs.invalid')).toBe(
      '<0b7d2a4e-1111-4c39-9d7e-0b0a0ab1c001@second-opinion.nhs.invalid>',
    );
  });
});
