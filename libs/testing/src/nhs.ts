import { randomInt } from 'node:crypto';

/**
 * A random NHS number in the 999 test range with a valid Modulus 11 check digit: never a real patient.
 * Each test makes its own, so suites can run together without sharing patients.
 */
export function randomTestNhsNumber(): string {
  for (;;) {
    const nine = `999${String(randomInt(0, 1_000_000)).padStart(6, '0')}`;
    let sum = 0;
    for (let i = 0; i < 9; i++) sum += Number(nine[i]) * (10 - i);
    const check = 11 - (sum % 11);
    if (check === 10) continue;
    return `${nine}${check === 11 ? 0 : check}`;
  }
}

/**
 * The body of `POST /v1/referrals` for a GP of A81001 asking Cardiology at RJ122 for a second opinion, with its own
 * patient (a fresh test NHS number unless given), email as the channel, and records sharing consented.
 */
export function secondOpinionRequest(
  patient: { name: string; email: string; nhsNumber?: string; phone?: string },
  urgency: 'routine' | 'urgent' = 'routine',
) {
  return {
    patient: { nhsNumber: randomTestNhsNumber(), ...patient, preferredChannel: 'email' },
    originalTeamId: 'RJ122-CARD',
    specialty: 'cardiology',
    reason: 'Wants a second view on the treatment plan.',
    urgency,
    explainedByOriginalTeam: true,
    recordsSharingConsent: true,
  };
}
