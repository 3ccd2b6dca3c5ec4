const { compare } = require('./fault-arithmetic.cjs') as { compare: (acks: Acks, seen: Seen) => Result };

interface Acks {
  requested: Set<string>;
  referred: Set<string>;
}
interface Seen {
  referrals: { id: string; state: string }[];
  audit: { subject: string; event_type: string }[];
  notifications: { referral_id: string; causation_event_type: string; recipient_role: string; template: string }[];
  chainOk: boolean;
}
interface Result {
  lost: number;
  duplicated: number;
  chainOk: boolean;
  lines: string[];
}

/** What a referral that was requested and referred leaves behind when nothing went wrong. */
const healthy = (id: string): Omit<Seen, 'chainOk'> => ({
  referrals: [{ id, state: 'awaiting-triage' }],
  audit: [
    { subject: id, event_type: 'referral.requested.v1' },
    { subject: id, event_type: 'referral.referred.v1' },
  ],
  notifications: [{ referral_id: id, causation_event_type: 'referral.requested.v1', recipient_role: 'patient', template: 'ack' }],
});

const seenOf = (...parts: Omit<Seen, 'chainOk'>[]): Seen => ({
  referrals: parts.flatMap((p) => p.referrals),
  audit: parts.flatMap((p) => p.audit),
  notifications: parts.flatMap((p) => p.notifications),
  chainOk: true,
});

describe("the fault suite's set arithmetic", () => {
  const acks = (): Acks => ({ requested: new Set(['a', 'b']), referred: new Set(['a', 'b']) });

  it('finds nothing lost or duplicated when every acknowledged request left exactly its effects', () => {
    expect(compare(acks(), seenOf(healthy('a'), healthy('b')))).toMatchObject({ lost: 0, duplicated: 0, chainOk: true });
  });

  it('counts an acknowledged referral the read model, the audit log and the notifications miss as lost', () => {
    const r = compare(acks(), seenOf(healthy('a')));
    expect(r.lost).toBe(4);
    expect(r.lines.join('\n')).toContain('acknowledged referral missing from the read model: 1 (b)');
  });

  it('counts an acknowledged refer the workflow did not record as lost', () => {
    const b = healthy('b');
    b.referrals[0]!.state = 'gp-review';
    b.audit.pop();
    expect(compare(acks(), seenOf(healthy('a'), b)).lost).toBe(2);
  });

  it('does not count events that happen many times per referral (notifications sent) as duplicated', () => {
    const a = healthy('a');
    a.audit.push({ subject: 'a', event_type: 'notification.sent.v1' }, { subject: 'a', event_type: 'notification.sent.v1' });
    expect(compare(acks(), seenOf(a, healthy('b'))).duplicated).toBe(0);
  });

  it('counts a referral nobody was told about, a step audited twice and a notification sent twice as duplicated', () => {
    const a = healthy('a');
    a.audit.push(a.audit[0]!);
    a.notifications.push(a.notifications[0]!);
    const r = compare(acks(), seenOf(a, healthy('b'), healthy('ghost')));
    expect(r.duplicated).toBe(3);
    expect(r.lines.join('\n')).toContain('referral recorded but never acknowledged: 1 (ghost)');
  });

  it('reads a step at any event version (the request is referral.requested.v2 since contact preferences)', () => {
    const b = healthy('b');
    b.audit[0]!.event_type = 'referral.requested.v2';
    b.notifications[0]!.causation_event_type = 'referral.requested.v2';
    expect(compare(acks(), seenOf(healthy('a'), b))).toMatchObject({ lost: 0, duplicated: 0 });
  });

  it('counts one step audited at two versions as duplicated', () => {
    const a = healthy('a');
    a.audit.push({ subject: 'a', event_type: 'referral.requested.v2' });
    expect(compare(acks(), seenOf(a, healthy('b'))).duplicated).toBe(1);
  });
});
