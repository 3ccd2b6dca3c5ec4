import { readConsoleConfig } from '../config';
import { defaultScopes, mapClaims, SignInRefused } from './oidc-claims';

const roleMap = { R8000: 'gp', 'S8000:G8000:R8003': 'clinician', R8008: 'ops', R8010: 'auditor' } as const;

const cis2 = (selected: string, overrides: Record<string, unknown> = {}) => ({
  sub: '910000000001',
  selected_roleid: selected,
  nhsid_nrbac_roles: [
    { person_roleid: 'r1', org_code: 'A81001', role_code: 'S8000:G8000:R8000', role_name: 'Clinical Practitioner' },
    { person_roleid: 'r2', org_code: 'rth', role_code: 'S8000:G8000:R8003', role_name: 'Health Professional' },
    { person_roleid: 'r3', org_code: 'X26', role_code: 'S0080:G0450:R5080', role_name: 'Receptionist' },
    { person_roleid: 'r4', role_code: 'S8000:G8000:R8000', role_name: 'No organisation' },
  ],
  ...overrides,
});

const nhsLogin = (overrides: Record<string, unknown> = {}) => ({
  sub: 'nhs-login-7d1e',
  nhs_number: '9434765919',
  gp_registration_details: { gp_ods_code: 'A81001' },
  ...overrides,
});

const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof SignInRefused) return e.message;
    throw e;
  }
  throw new Error('expected a refusal');
};

describe('mapping CIS2 claims (staff)', () => {
  it('takes the organisation and role of the role the user selected, not of their other roles', () => {
    expect(mapClaims(cis2('r1'), 'cis2', roleMap)).toEqual({ role: 'gp', organisation: 'A81001', subject: '910000000001' });
    expect(mapClaims(cis2('r2'), 'cis2', roleMap)).toEqual({ role: 'clinician', organisation: 'RTH', subject: '910000000001' });
  });

  it("matches the map on the whole role_code first, else on the code's last part", () => {
    const whole = { 'S8000:G8000:R8000': 'auditor', R8000: 'gp' } as const;
    expect(mapClaims(cis2('r1'), 'cis2', whole).role).toBe('auditor');
    expect(mapClaims(cis2('r1'), 'cis2', { R8000: 'ops' }).role).toBe('ops');
  });

  it('refuses a selected role that maps to nothing, saying which', () => {
    expect(refusal(() => mapClaims(cis2('r3'), 'cis2', roleMap))).toBe(
      'the role you selected (Receptionist) has no access to this console',
    );
    expect(refusal(() => mapClaims(cis2('r1'), 'cis2', {}))).toMatch(/has no access/);
  });

  it('is not fooled by a role code that names an Object property', () => {
    const claims = cis2('r9', { nhsid_nrbac_roles: [{ person_roleid: 'r9', org_code: 'A81001', role_code: 'constructor' }] });
    expect(refusal(() => mapClaims(claims, 'cis2', roleMap))).toMatch(/has no access/);
  });

  it('refuses when no role was selected, or the selected one is not among the roles', () => {
    expect(refusal(() => mapClaims(cis2('r1', { selected_roleid: undefined }), 'cis2', roleMap))).toMatch(/did not select/);
    expect(refusal(() => mapClaims(cis2('nope'), 'cis2', roleMap))).toMatch(/did not select/);
  });

  it('refuses a selected role without a valid ODS code, and roles that cannot be read', () => {
    expect(refusal(() => mapClaims(cis2('r4'), 'cis2', roleMap))).toMatch(/no valid organisation/);
    expect(refusal(() => mapClaims(cis2('r1', { nhsid_nrbac_roles: 'gp' }), 'cis2', roleMap))).toMatch(/could not be read/);
  });
});

describe('mapping NHS login claims (patients)', () => {
  it('signs a patient in with their registered practice as the organisation and keeps the NHS number checked', () => {
    expect(mapClaims(nhsLogin(), 'nhs-login', roleMap)).toEqual({
      role: 'patient',
      organisation: 'A81001',
      subject: 'nhs-login-7d1e',
      nhsNumber: '9434765919',
    });
  });

  it('refuses an invalid or missing NHS number and a missing practice', () => {
    expect(refusal(() => mapClaims(nhsLogin({ nhs_number: '1234567890' }), 'nhs-login', roleMap))).toMatch(/valid NHS number/);
    expect(refusal(() => mapClaims(nhsLogin({ nhs_number: undefined }), 'nhs-login', roleMap))).toMatch(/valid NHS number/);
    expect(refusal(() => mapClaims(nhsLogin({ gp_registration_details: undefined }), 'nhs-login', roleMap))).toMatch(/GP practice/);
  });
});

describe('telling the providers apart (auto)', () => {
  it('reads nhs_number as NHS login and nhsid_nrbac_roles as CIS2', () => {
    expect(mapClaims(nhsLogin(), 'auto', roleMap).role).toBe('patient');
    expect(mapClaims(cis2('r1'), 'auto', roleMap).role).toBe('gp');
  });

  it('never makes a patient of a CIS2 sign-in when the profile is cis2, nor staff of an NHS login one', () => {
    expect(refusal(() => mapClaims(nhsLogin(), 'cis2', roleMap))).toMatch(/roles could not be read/);
    expect(refusal(() => mapClaims(cis2('r1'), 'nhs-login', roleMap))).toMatch(/valid NHS number/);
  });

  it('refuses claims of neither kind, and no subject', () => {
    expect(refusal(() => mapClaims({ sub: 'x' }, 'auto', roleMap))).toMatch(/neither/);
    expect(refusal(() => mapClaims({ ...cis2('r1'), sub: '' }, 'auto', roleMap))).toMatch(/who you are/);
  });

  it('asks by default for the scopes that bring each profile its claims', () => {
    expect(defaultScopes('cis2')).toBe('openid profile nationalrbacaccess');
    expect(defaultScopes('nhs-login')).toBe('openid profile gp_registration_details');
    expect(defaultScopes('auto').split(' ')).toEqual(expect.arrayContaining(['nationalrbacaccess', 'gp_registration_details']));
  });
});

describe('the OpenID Connect configuration', () => {
  const oidc = {
    CONSOLE_AUTH_MODE: 'oidc',
    OIDC_ISSUER_URL: 'https://am.nhsidentity.example/openam/oauth2/realms/root/realms/oidc',
    OIDC_CLIENT_ID: 'sonet-console',
    OIDC_CLIENT_SECRET: 'secret',
    CONSOLE_PUBLIC_URL: 'https://console.sonet.example',
  };

  it('reads the role map as JSON of role codes to staff roles', () => {
    expect(readConsoleConfig({ ...oidc, OIDC_ROLE_MAP: '{"R8000":"gp"}' }).OIDC_ROLE_MAP).toEqual({ R8000: 'gp' });
    expect(readConsoleConfig(oidc).OIDC_ROLE_MAP).toEqual({});
  });

  it('refuses a role map that is not JSON or maps to a role staff cannot have', () => {
    expect(() => readConsoleConfig({ ...oidc, OIDC_ROLE_MAP: '{R8000:gp}' })).toThrow(/OIDC_ROLE_MAP/);
    expect(() => readConsoleConfig({ ...oidc, OIDC_ROLE_MAP: '{"R8000":"patient"}' })).toThrow(/OIDC_ROLE_MAP/);
  });

  it('needs the public URL (the redirect URI) and, in production, an https issuer', () => {
    expect(() => readConsoleConfig({ ...oidc, CONSOLE_PUBLIC_URL: undefined })).toThrow(/CONSOLE_PUBLIC_URL/);
    expect(() =>
      readConsoleConfig({
        ...oidc,
        NODE_ENV: 'production',
        CONSOLE_SESSION_SECRET: 'x'.repeat(32),
        OIDC_ISSUER_URL: 'http://127.0.0.1:9000',
      }),
    ).toThrow(/OIDC_ISSUER_URL/);
  });
});
