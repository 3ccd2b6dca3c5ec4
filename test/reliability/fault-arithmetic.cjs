// Set arithmetic of the fault suite (fault-suite.mjs), apart so it can be tested without faults.
'use strict';

/** An event type without its version: `referral.requested.v2` → `referral.requested` (a step is the same at any version). */
const step = (eventType) => eventType.replace(/\.v\d+$/, '');

/** How many times each key occurs. */
const tally = (keys) => keys.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map());

/**
 * Compares what was acknowledged with what the network holds afterwards.
 * acks: { requested: Set<id>, referred: Set<id> } — the referrals whose POST answered 202, and whose refer answered 200.
 * seen: { referrals: [{ id, state }], audit: [{ subject, event_type }], notifications: [{ referral_id,
 *   causation_event_type, recipient_role, template }], chainOk } — every row of this run's referrals.
 * Lost: an acknowledged referral or decision missing from the read model, the workflow's state or the audit log, or
 * a referral without the patient's acknowledgement. Duplicated: a referral nobody was told about (a failed answer that
 * left one behind, or a retry that made a second), a process step audited twice, a notification sent twice.
 */
function compare(acks, seen) {
  const byId = new Map(seen.referrals.map((r) => [r.id, r]));
  // Process steps happen once per referral; other events (a notification sent, a read recorded) may be many.
  const audited = tally(seen.audit.filter((a) => a.event_type.startsWith('referral.')).map((a) => `${a.subject} ${step(a.event_type)}`));
  const notified = tally(seen.notifications.map((n) => `${n.referral_id} ${n.causation_event_type} ${n.recipient_role} ${n.template}`));
  const acknowledgedPatient = new Set(
    seen.notifications
      .filter((n) => step(n.causation_event_type) === 'referral.requested' && n.recipient_role === 'patient')
      .map((n) => n.referral_id),
  );
  const problems = {
    'acknowledged referral missing from the read model': [...acks.requested].filter((id) => !byId.has(id)),
    'acknowledged refer not in the referral state': [...acks.referred].filter((id) =>
      ['requested', 'gp-review'].includes(byId.get(id)?.state),
    ),
    'acknowledged referral not audited': [...acks.requested].filter((id) => !audited.has(`${id} referral.requested`)),
    'acknowledged refer not audited': [...acks.referred].filter((id) => !audited.has(`${id} referral.referred`)),
    "acknowledged referral without the patient's acknowledgement": [...acks.requested].filter((id) => !acknowledgedPatient.has(id)),
  };
  const doubles = {
    'referral recorded but never acknowledged': seen.referrals.filter((r) => !acks.requested.has(r.id)).map((r) => r.id),
    'process step audited more than once': [...audited].filter(([, n]) => n > 1).map(([k]) => k),
    'notification sent more than once': [...notified].filter(([, n]) => n > 1).map(([k]) => k),
  };
  const count = (o) => Object.values(o).reduce((s, l) => s + l.length, 0);
  const lines = [
    `acknowledged: ${acks.requested.size} referrals, ${acks.referred.size} refer decisions; audit chain ${seen.chainOk ? 'verifies' : 'DOES NOT verify'}`,
    ...Object.entries({ ...problems, ...doubles })
      .filter(([, l]) => l.length > 0)
      .map(([what, l]) => `${what}: ${l.length} (${l.slice(0, 5).join(', ')}${l.length > 5 ? ', ...' : ''})`),
  ];
  return { lost: count(problems), duplicated: count(doubles), chainOk: seen.chainOk, lines };
}

/** One line per fault: what was done and how long until the network answered again. */
const recoveryLine = ({ fault, ms }) => `${fault}: recovered in ${(ms / 1000).toFixed(1)} s`;

module.exports = { compare, recoveryLine, step };
