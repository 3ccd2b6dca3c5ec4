import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import { CONSOLE_CONFIG, type ConsoleConfig } from '../config';
import { SignInFailed, type ConsoleUser } from '../session';
import { defaultScopes, mapClaims, SignInRefused } from './oidc-claims';

/** An access token this close to its expiry is refreshed before the request that would use it. */
export const REFRESH_MARGIN_MS = 60_000;

/**
 * The OpenID Connect client (openid-client): authorisation code with PKCE, state and nonce kept in the pre-login
 * session, the ID token verified by the library against the issuer's keys, claims from the ID token and UserInfo
 * mapped onto the network's principal; the access token (and refresh token) stay in the server-side session.
 */
@Injectable()
export class OidcSignIn implements OnModuleInit {
  private readonly log = new Logger('OidcSignIn');
  private configuration?: oidc.Configuration;
  private readonly settings: { issuer: URL; clientId: string; secret: string; publicUrl: string };

  constructor(@Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig) {
    const { OIDC_ISSUER_URL: issuer, OIDC_CLIENT_ID: clientId, OIDC_CLIENT_SECRET: secret, CONSOLE_PUBLIC_URL: publicUrl } = config;
    // The configuration schema already requires these in oidc mode; this narrows their types.
    if (!issuer || !clientId || !secret || !publicUrl)
      throw new Error('oidc mode needs OIDC_ISSUER_URL, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and CONSOLE_PUBLIC_URL');
    this.settings = { issuer: new URL(issuer), clientId, secret, publicUrl: publicUrl.replace(/\/+$/, '') };
  }

  /** Reads the provider's discovery document at start: a console that cannot find its provider does not start. */
  async onModuleInit(): Promise<void> {
    const c = this.config;
    const { issuer, clientId, secret } = this.settings;
    // Plain http only for a provider on this machine outside production (tests, a local provider); config refuses it in production.
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
    const insecure = issuer.protocol === 'http:' && loopback && c.NODE_ENV !== 'production';
    try {
      this.configuration = await oidc.discovery(
        issuer,
        clientId,
        secret,
        c.OIDC_TOKEN_AUTH_METHOD === 'client_secret_post' ? oidc.ClientSecretPost(secret) : oidc.ClientSecretBasic(secret),
        { timeout: Math.ceil(c.UPSTREAM_TIMEOUT_MS / 1000), ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}) },
      );
    } catch (e) {
      const cause = e instanceof Error ? `${e.message}${e.cause instanceof Error ? ` (${e.cause.message})` : ''}` : String(e);
      throw new Error(`could not read the OpenID provider's discovery document for ${issuer.href} (OIDC_ISSUER_URL): ${cause}`, {
        cause: e,
      });
    }
  }

  private get conf(): oidc.Configuration {
    if (!this.configuration) throw new Error('the OpenID Connect client is used before discovery');
    return this.configuration;
  }

  private get publicUrl(): string {
    return this.settings.publicUrl;
  }

  get redirectUri(): string {
    return `${this.publicUrl}/auth/callback`;
  }

  /** Starts a sign-in: a fresh session holding the state, nonce and PKCE verifier; the browser goes to the provider. */
  async start(request: FastifyRequest): Promise<string> {
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    await request.session.regenerate();
    request.session.pendingSignIn = { state, nonce, codeVerifier };
    return oidc.buildAuthorizationUrl(this.conf, {
      redirect_uri: this.redirectUri,
      scope: this.config.OIDC_SCOPES ?? defaultScopes(this.config.OIDC_PROFILE),
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    }).href;
  }

  /**
   * The provider's answer at /auth/callback: checks state, exchanges the code with the verifier, checks the ID token
   * (signature, issuer, audience, expiry, nonce: the library), reads UserInfo and maps the claims. Throws SignInFailed.
   */
  async finish(request: FastifyRequest): Promise<ConsoleUser> {
    const pending = request.session.pendingSignIn;
    // One answer per sign-in: a replayed callback finds nothing pending.
    delete request.session.pendingSignIn;
    if (!pending) throw new SignInFailed(400, 'this browser did not start a sign-in, or it has expired');
    const currentUrl = new URL(request.url, `${this.publicUrl}/`);
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(this.conf, currentUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (e) {
      throw this.failure(e);
    }
    const idClaims = tokens.claims();
    if (!idClaims) throw new SignInFailed(401, 'the identity provider sent no ID token');
    let userinfo: Record<string, unknown> = {};
    try {
      userinfo = await oidc.fetchUserInfo(this.conf, tokens.access_token, idClaims.sub);
    } catch (e) {
      throw this.failure(e);
    }
    try {
      const principal = mapClaims({ ...idClaims, ...userinfo }, this.config.OIDC_PROFILE, this.config.OIDC_ROLE_MAP);
      return {
        role: principal.role,
        organisation: principal.organisation,
        subject: principal.subject,
        token: tokens.access_token,
        ...expiry(tokens.expiresIn()),
        ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
        ...(tokens.id_token ? { idToken: tokens.id_token } : {}),
      };
    } catch (e) {
      if (e instanceof SignInRefused) throw new SignInFailed(403, e.message);
      throw e;
    }
  }

  /**
   * Before a request: an access token at (or near) its expiry is refreshed with the refresh token; without one, or
   * when the provider refuses, the person is signed out (the next page asks them to sign in).
   */
  async keepFresh(request: FastifyRequest): Promise<void> {
    const user = request.session?.user;
    if (!user?.tokenExpiresAt || Date.now() < user.tokenExpiresAt - REFRESH_MARGIN_MS) return;
    if (!user.refreshToken) {
      delete request.session.user;
      return;
    }
    try {
      const tokens = await oidc.refreshTokenGrant(this.conf, user.refreshToken);
      request.session.user = {
        ...user,
        token: tokens.access_token,
        tokenExpiresAt: expiry(tokens.expiresIn()).tokenExpiresAt,
        refreshToken: tokens.refresh_token ?? user.refreshToken,
        idToken: tokens.id_token ?? user.idToken,
      };
    } catch (e) {
      // The reason only (never a token): the person signs in again.
      this.log.warn(`refreshing the access token failed: ${e instanceof Error ? e.name : 'error'} ${(e as { code?: string }).code ?? ''}`);
      delete request.session.user;
    }
  }

  /** Where the browser goes once the session is gone: the provider's end_session_endpoint when it has one. */
  signOutUrl(idToken: string | undefined): string {
    if (!this.conf.serverMetadata().end_session_endpoint) return '/sign-in';
    return oidc.buildEndSessionUrl(this.conf, {
      post_logout_redirect_uri: `${this.publicUrl}/sign-in`,
      client_id: this.conf.clientMetadata().client_id,
      ...(idToken ? { id_token_hint: idToken } : {}),
    }).href;
  }

  private failure(e: unknown): SignInFailed {
    if (e instanceof oidc.AuthorizationResponseError) {
      return new SignInFailed(401, `the identity provider did not sign you in (${e.error})`);
    }
    if (e instanceof oidc.ResponseBodyError || e instanceof oidc.WWWAuthenticateChallengeError) {
      return new SignInFailed(401, 'the identity provider did not accept this sign-in');
    }
    if (e instanceof oidc.ClientError) {
      const network = e.code === 'OAUTH_TIMEOUT' || e.cause instanceof TypeError;
      if (network) return new SignInFailed(503, 'the identity provider did not answer');
      this.log.warn(`a sign-in answer was refused: ${e.code ?? ''} ${e.message}`);
      return new SignInFailed(400, 'the answer from the identity provider does not match the sign-in this browser started');
    }
    return new SignInFailed(503, 'the identity provider did not answer');
  }
}

const expiry = (expiresIn: number | undefined): { tokenExpiresAt?: number } =>
  expiresIn === undefined ? {} : { tokenExpiresAt: Date.now() + expiresIn * 1000 };
