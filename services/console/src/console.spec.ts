import { idempotencyKey } from './backend';
import { readConsoleConfig } from './config';
import { metricByLabel, temporalLink, traceLink } from './links';
import { devSignInSchema } from './sign-in/sign-in.controller';
import { ukLocalToUtc } from './worklist/worklist.controller';

describe('the Idempotency-Key of a form submission', () => {
  it('is the same when the same form is submitted twice (a double-click acts once)', () => {
    expect(idempotencyKey('session-1', 'b3c1', 'replay:x')).toBe(idempotencyKey('session-1', 'b3c1', 'replay:x'));
  });

  it('differs for another submission, another session or another action', () => {
    const key = idempotencyKey('session-1', 'b3c1', 'replay:x');
    expect(idempotencyKey('session-1', 'b3c2', 'replay:x')).not.toBe(key);
    expect(idempotencyKey('session-2', 'b3c1', 'replay:x')).not.toBe(key);
    expect(idempotencyKey('session-1', 'b3c1', 'replay:y')).not.toBe(key);
  });

  it('carries neither the session id nor the submission id', () => {
    const key = idempotencyKey('secret-session-id', 'submission-id', 'withdraw');
    expect(key).toMatch(/^console-[0-9a-f]{40}$/);
  });
});

describe("the counts read from a service's /metrics", () => {
  const text = [
    '# HELP sonet_referrals Referrals by state',
    'sonet_referrals{referral_state="gp-review",otel_scope_name="sonet-referral"} 16',
    'sonet_referrals{otel_scope_name="sonet-referral",referral_state="awaiting-triage"} 565',
    'sonet_referrals_total{referral_state="closed"} 3',
  ].join('\n');

  it('reads each value by its label, whatever the label order, and no other metric', () => {
    expect(metricByLabel(text, 'sonet_referrals', 'referral_state')).toEqual([
      { label: 'gp-review', value: 16 },
      { label: 'awaiting-triage', value: 565 },
    ]);
  });
});

describe('the links of a row', () => {
  const config = readConsoleConfig({});

  it("opens the referral's workflow (second-opinion/<id>) in the Temporal UI", () => {
    expect(temporalLink(config, '7292d79d-7009-5b87-b46a-9792347862fa')).toBe(
      'http://127.0.0.1:8233/namespaces/default/workflows/second-opinion%2F7292d79d-7009-5b87-b46a-9792347862fa',
    );
  });

  it('links a trace only for a W3C trace id', () => {
    expect(traceLink(config, '62f94de60eaf10c6985c23e84dba87b6')).toBe(
      'http://127.0.0.1:9411/zipkin/traces/62f94de60eaf10c6985c23e84dba87b6',
    );
    expect(traceLink(config, '"><script>')).toBeNull();
    expect(traceLink(config, null)).toBeNull();
  });
});

describe('local sign-in', () => {
  it('takes a role and an ODS code', () => {
    expect(devSignInSchema.parse({ role: 'ops', organisation: ' x26 ' })).toEqual({ role: 'ops', organisation: 'X26' });
  });

  it('refuses a patient without a valid NHS number', () => {
    expect(devSignInSchema.safeParse({ role: 'patient', organisation: 'A81001', nhsNumber: '1234567890' }).success).toBe(false);
    expect(devSignInSchema.parse({ role: 'patient', organisation: 'A81001', nhsNumber: '943 476 5919' })).toEqual({
      role: 'patient',
      organisation: 'A81001',
      nhsNumber: '9434765919',
    });
  });

  it('refuses a role the console does not serve and a malformed organisation', () => {
    expect(devSignInSchema.safeParse({ role: 'system', organisation: 'X26' }).success).toBe(false);
    expect(devSignInSchema.safeParse({ role: 'ops', organisation: 'not an ods code!' }).success).toBe(false);
  });
});

describe('the configuration', () => {
  it('refuses production without a session secret or with the development sign-in', () => {
    expect(() => readConsoleConfig({ NODE_ENV: 'production', CONSOLE_AUTH_MODE: 'dev' })).toThrow(
      /CONSOLE_SESSION_SECRET[\s\S]*CONSOLE_AUTH_MODE/,
    );
  });
});

describe('an appointment typed in UK time', () => {
  it('is the same instant in UTC in winter (GMT) and an hour earlier in summer (BST)', () => {
    expect(ukLocalToUtc('2027-01-15T10:30')).toBe('2027-01-15T10:30:00.000Z');
    expect(ukLocalToUtc('2027-07-15T10:30')).toBe('2027-07-15T09:30:00.000Z');
  });
});
