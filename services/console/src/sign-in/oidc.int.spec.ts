import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { exportJWK, generateKeyPair } from 'jose';
import { Provider } from 'oidc-provider';
import { readConsoleConfig } from '../config';
import { createConsoleApp } from '../main';

/**
 * The console's OpenID Connect sign-in against a real OpenID provider (oidc-provider) run in this process, with a
 * registered client and three people: a CIS2-style GP, a CIS2-style user whose selected role maps to nothing, and an
 * NHS-login-style patient. The "browser" is fetch with redirects followed by hand and a tiny cookie jar. The console
 * is reached as http://console.invalid (its CONSOLE_PUBLIC_URL), which the browser maps to its real port, as a
 * reverse proxy would. No service of the network is needed: pages asserted on call none.
 */

const CONSOLE_PUBLIC_URL = 'http://console.invalid';
const CLIENT_ID = 'sonet-console';
const CLIENT_SECRET = 'the-console-secret-for-this-test-only-0123456789';

const ACCOUNTS: Record<string, Record<string, unknown>> = {
  'staff-gp-7f3a': {
    name: 'Dr Ada Example',
    selected_roleid: '555021935107',
    nhsid_nrbac_roles: [
      { person_roleid: '555021935106', org_code: 'RTH', role_code: 'S8000:G8000:R8003', role_name: 'Health Professional' },
      { person_roleid: '555021935107', org_code: 'a81001', role_code: 'S8000:G8000:R8000', role_name: 'Clinical Practitioner' },
    ],
  },
  'staff-unmapped-2c9d': {
    name: 'Sam Receptionist',
    selected_roleid: '555021935200',
    nhsid_nrbac_roles: [{ person_roleid: '555021935200', org_code: 'A81001', role_code: 'S0080:G0450:R5080', role_name: 'Receptionist' }],
  },
  'patient-91b2': { name: 'Pat Example', nhs_number: '9434765919', gp_registration_details: { gp_ods_code: 'A81001' } },
};

let provider: Provider;
let providerServer: Server;
let issuer: string;
let app: NestFastifyApplication;
let consoleOrigin: string;
const refreshGrants: string[] = [];
/** The grant each sign-in got at the provider, by account: revoking it makes the refresh token useless. */
const grants = new Map<string, string>();

beforeAll(async () => {
  providerServer = createServer();
  await new Promise<void>((resolve) => providerServer.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(providerServer.address() as AddressInfo).port}`;

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [`${CONSOLE_PUBLIC_URL}/auth/callback`],
        post_logout_redirect_uris: [`${CONSOLE_PUBLIC_URL}/sign-in`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'test-key' }] },
    cookies: { keys: ['cookie-key-for-this-test-only-0123456789'] },
    claims: {
      openid: ['sub'],
      profile: ['name', 'nhs_number'],
      nationalrbacaccess: ['nhsid_nrbac_roles', 'selected_roleid'],
      gp_registration_details: ['gp_registration_details'],
    },
    scopes: ['openid', 'offline_access', 'profile', 'nationalrbacaccess', 'gp_registration_details'],
    findAccount: (_ctx: unknown, id: string) =>
      ACCOUNTS[id] ? { accountId: id, claims: () => ({ sub: id, ...ACCOUNTS[id] }) } : undefined,
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
    pkce: { required: () => true },
    // Short-lived access tokens: below the console's refresh margin, so every later request refreshes first.
    ttl: { AccessToken: 30, IdToken: 300, RefreshToken: 600, Interaction: 300, Session: 600, Grant: 600, AuthorizationCode: 60 },
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) =>
      client.grantTypeAllowed('refresh_token'),
  });
  provider.on('grant.success', (ctx) => {
    if (ctx.oidc.params?.grant_type === 'refresh_token') refreshGrants.push(String(ctx.oidc.params.grant_type));
  });
  const callback = provider.callback();
  // The login page: the person "signs in" as the account named in ?as= (or declines with ?as=decline), and consents.
  providerServer.on('request', (req, res) => {
    if (!req.url?.startsWith('/interaction/')) return callback(req, res);
    void (async () => {
      const details = await provider.interactionDetails(req, res);
      const as = new URL(req.url!, issuer).searchParams.get('as') ?? '';
      if (as === 'decline' || !ACCOUNTS[as]) {
        return provider.interactionFinished(
          req,
          res,
          { error: 'access_denied', error_description: 'declined' },
          { mergeWithLastSubmission: false },
        );
      }
      const grant = new provider.Grant({ accountId: as, clientId: String(details.params.client_id) });
      grant.addOIDCScope(String(details.params.scope));
      const grantId = await grant.save();
      grants.set(as, grantId);
      return provider.interactionFinished(req, res, { login: { accountId: as }, consent: { grantId } }, { mergeWithLastSubmission: false });
    })().catch((e: unknown) => {
      res.statusCode = 500;
      res.end(String(e));
    });
  });

  const config = readConsoleConfig({
    NODE_ENV: 'test',
    CONSOLE_AUTH_MODE: 'oidc',
    CONSOLE_PUBLIC_URL,
    OIDC_ISSUER_URL: issuer,
    OIDC_CLIENT_ID: CLIENT_ID,
    OIDC_CLIENT_SECRET: CLIENT_SECRET,
    OIDC_SCOPES: 'openid offline_access profile nationalrbacaccess gp_registration_details',
    OIDC_ROLE_MAP: JSON.stringify({ R8000: 'gp', 'S8000:G8000:R8003': 'clinician' }),
    UPSTREAM_TIMEOUT_MS: '5000',
  });
  app = await createConsoleApp(config);
  await app.listen({ port: 0, host: '127.0.0.1' });
  consoleOrigin = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
}, 30_000);

afterAll(async () => {
  await app?.close();
  await new Promise((resolve) => providerServer?.close(resolve));
});

/** A browser: one cookie jar per origin (name=value; path and expiry kept simple), redirects followed by hand. */
class Browser {
  private readonly jar = new Map<string, Map<string, string>>();

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const target = new URL(url);
    const cookies = this.jar.get(target.origin) ?? new Map<string, string>();
    // The console's public address is served by its real port (a reverse proxy's job in a deployment).
    const actual = target.origin === CONSOLE_PUBLIC_URL ? `${consoleOrigin}${target.pathname}${target.search}` : target.href;
    const headers: Record<string, string> = { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(actual, {
      method: init.method ?? 'GET',
      headers,
      redirect: 'manual',
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
      signal: AbortSignal.timeout(10_000),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const [name, ...value] = pair!.split('=');
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=.*1970/i.test(a));
      if (expired) cookies.delete(name!.trim());
      else cookies.set(name!.trim(), value.join('='));
    }
    this.jar.set(target.origin, cookies);
    return response;
  }

  /** Follows redirects from `url` until a page answers or `stopAt` says to stop; returns the last response and its URL. */
  async follow(url: string, stopAt: (next: URL) => boolean = () => false): Promise<{ response: Response; url: string }> {
    let current = url;
    for (let hops = 0; hops < 15; hops += 1) {
      const response = await this.request(current);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return { response, url: current };
      const next = new URL(location, current);
      if (stopAt(next)) return { response, url: next.href };
      current = next.href;
    }
    throw new Error(`too many redirects from ${url}`);
  }

  cookieNames(origin: string): string[] {
    return [...(this.jar.get(origin)?.keys() ?? [])];
  }
}

/** Signs in at the provider as `as`, stopping when the provider sends the browser back to the console's callback. */
async function throughProvider(browser: Browser, as: string): Promise<URL> {
  const login = await browser.request(`${CONSOLE_PUBLIC_URL}/auth/login`);
  expect(login.status).toBe(303);
  const authorize = new URL(login.headers.get('location')!);
  const { url: interaction } = await browser.follow(authorize.href, (next) => next.pathname.startsWith('/interaction/'));
  const withAccount = new URL(interaction);
  withAccount.searchParams.set('as', as);
  const { url: callback } = await browser.follow(withAccount.href, (next) => next.origin === CONSOLE_PUBLIC_URL);
  return new URL(callback);
}

const text = async (response: Response): Promise<string> => (await response.text()).replace(/\s+/g, ' ');

const csrfOf = (html: string): string => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

describe('signing in through OpenID Connect', () => {
  it('sends the browser to the provider with the code flow, PKCE (S256), a state and a nonce, and offers it on the sign-in page', async () => {
    const browser = new Browser();
    const page = await browser.request(`${CONSOLE_PUBLIC_URL}/sign-in`);
    expect(page.status).toBe(200);
    expect(await text(page)).toContain('href="/auth/login"');
    const login = await browser.request(`${CONSOLE_PUBLIC_URL}/auth/login`);
    const authorize = new URL(login.headers.get('location')!);
    expect(`${authorize.origin}`).toBe(issuer);
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
      client_id: CLIENT_ID,
      response_type: 'code',
      redirect_uri: `${CONSOLE_PUBLIC_URL}/auth/callback`,
      code_challenge_method: 'S256',
      code_challenge: expect.stringMatching(/^[\w-]{43}$/),
      state: expect.stringMatching(/^[\w-]{20,}$/),
      nonce: expect.stringMatching(/^[\w-]{20,}$/),
    });
    // The verifier, state and nonce are in the server-side session: the browser holds only the session cookie.
    expect(browser.cookieNames(CONSOLE_PUBLIC_URL)).toEqual(['console.sid']);
  });

  it('signs a CIS2 GP in with the role and organisation of the selected role, and refreshes the access token when it expires', async () => {
    const browser = new Browser();
    const callback = await throughProvider(browser, 'staff-gp-7f3a');
    expect(callback.pathname).toBe('/auth/callback');
    const signedIn = await browser.request(callback.href);
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe('/worklist');

    const refreshesBefore = refreshGrants.length;
    const account = await browser.request(`${CONSOLE_PUBLIC_URL}/account`);
    expect(account.status).toBe(200);
    const html = await text(account);
    expect(html).toMatch(/Role <\/dt> <dd[^>]*> gp/);
    expect(html).toMatch(/Organisation \(ODS code\) <\/dt> <dd[^>]*> A81001/);
    expect(html).toContain('staff-gp-7f3a');
    // The provider's access token lives 30 s, inside the console's 60 s margin: the console used the refresh token.
    expect(refreshGrants.length).toBeGreaterThan(refreshesBefore);
    // Still signed in after the refresh.
    expect((await browser.request(`${CONSOLE_PUBLIC_URL}/account`)).status).toBe(200);
  });

  it('signs the person out when the provider no longer refreshes their token (the grant was revoked)', async () => {
    const browser = new Browser();
    await browser.request((await throughProvider(browser, 'patient-91b2')).href);
    expect((await browser.request(`${CONSOLE_PUBLIC_URL}/account`)).status).toBe(200);
    await (await provider.Grant.find(grants.get('patient-91b2')!))!.destroy();
    const after = await browser.request(`${CONSOLE_PUBLIC_URL}/account`);
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/sign-in');
  });

  it('signs an NHS login patient in as a patient of their registered practice', async () => {
    const browser = new Browser();
    const callback = await throughProvider(browser, 'patient-91b2');
    const signedIn = await browser.request(callback.href);
    expect(signedIn.headers.get('location')).toBe('/patient');
    const html = await text(await browser.request(`${CONSOLE_PUBLIC_URL}/account`));
    expect(html).toMatch(/Role <\/dt> <dd[^>]*> patient/);
    expect(html).toMatch(/Organisation \(ODS code\) <\/dt> <dd[^>]*> A81001/);
    expect(html).not.toContain('9434765919');
  });

  it('refuses a user whose selected role maps to no console role (403), and keeps no session', async () => {
    const browser = new Browser();
    const callback = await throughProvider(browser, 'staff-unmapped-2c9d');
    const refused = await browser.request(callback.href);
    expect(refused.status).toBe(403);
    const html = await text(refused);
    expect(html).toContain('You cannot use this console');
    expect(html).toContain('the role you selected (Receptionist) has no access to this console');
    const account = await browser.request(`${CONSOLE_PUBLIC_URL}/account`);
    expect(account.status).toBe(303);
    expect(account.headers.get('location')).toBe('/sign-in');
  });

  it('refuses an answer whose state is not the one this browser was given (400), and one with no sign-in pending', async () => {
    const browser = new Browser();
    const callback = await throughProvider(browser, 'staff-gp-7f3a');
    callback.searchParams.set('state', 'a-state-from-someone-else');
    const forged = await browser.request(callback.href);
    expect(forged.status).toBe(400);
    expect(await text(forged)).toContain('does not match the sign-in this browser started');
    expect((await browser.request(`${CONSOLE_PUBLIC_URL}/account`)).status).toBe(303);

    const stranger = new Browser();
    const noneStarted = await stranger.request(`${CONSOLE_PUBLIC_URL}/auth/callback?code=abc&state=def`);
    expect(noneStarted.status).toBe(400);
    expect(await text(noneStarted)).toContain('this browser did not start a sign-in');
  });

  it('shows a page (401) when the provider answers with an error, e.g. the person declined', async () => {
    const browser = new Browser();
    const callback = await throughProvider(browser, 'decline');
    expect(callback.searchParams.get('error')).toBe('access_denied');
    const declined = await browser.request(callback.href);
    expect(declined.status).toBe(401);
    expect(await text(declined)).toContain('the identity provider did not sign you in (access_denied)');
  });

  it("signs out: the session is gone and the browser goes to the provider's end-session endpoint", async () => {
    const browser = new Browser();
    await browser.request((await throughProvider(browser, 'staff-gp-7f3a')).href);
    const account = await browser.request(`${CONSOLE_PUBLIC_URL}/account`);
    expect(account.status).toBe(200);
    // Signed in, a link to /auth/login leaves the session alone.
    const again = await browser.request(`${CONSOLE_PUBLIC_URL}/auth/login`);
    expect(again.headers.get('location')).toBe('/worklist');
    const signOut = await browser.request(`${CONSOLE_PUBLIC_URL}/sign-out`, {
      method: 'POST',
      form: { _csrf: csrfOf(await account.text()) },
    });
    expect(signOut.status).toBe(303);
    const endSession = new URL(signOut.headers.get('location')!);
    expect(`${endSession.origin}${endSession.pathname}`).toBe(`${issuer}/session/end`);
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${CONSOLE_PUBLIC_URL}/sign-in`);
    expect(endSession.searchParams.get('id_token_hint')).toMatch(/^ey/);
    const after = await browser.request(`${CONSOLE_PUBLIC_URL}/account`);
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/sign-in');
  });
});

describe('the development sign-in (CONSOLE_AUTH_MODE=dev)', () => {
  it('still offers the role and organisation form, and no OpenID Connect routes', async () => {
    const dev = await createConsoleApp(readConsoleConfig({ NODE_ENV: 'test' }));
    try {
      await dev.init();
      const fastify = dev.getHttpAdapter().getInstance();
      const form = await fastify.inject({ method: 'GET', url: '/sign-in' });
      expect(form.statusCode).toBe(200);
      expect(form.body).toContain('name="organisation"');
      expect((await fastify.inject({ method: 'GET', url: '/auth/login' })).statusCode).toBe(404);
      expect((await fastify.inject({ method: 'GET', url: '/auth/callback?code=a&state=b' })).statusCode).toBe(404);
    } finally {
      await dev.close();
    }
  });
});
