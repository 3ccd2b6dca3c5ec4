import type { FastifyRequest } from 'fastify';
import type { Role } from '@sonet/auth';

/** Who is signed in. Kept in the server-side session only: the browser holds an opaque session id. */
export interface ConsoleUser {
  readonly role: Role;
  readonly organisation: string;
  readonly subject: string;
  /** The bearer token the console presents to the services on the user's behalf; never sent to the browser. */
  readonly token: string;
  /** OpenID Connect only: when the access token expires (epoch ms), the refresh token and the ID token (for sign-out). */
  readonly tokenExpiresAt?: number;
  readonly refreshToken?: string;
  readonly idToken?: string;
}

/** Between "sign in" and the provider's answer: what the callback must match (OpenID Connect only). */
export interface PendingSignIn {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

declare module 'fastify' {
  interface Session {
    user?: ConsoleUser;
    pendingSignIn?: PendingSignIn;
  }
}

/** Roles that can sign in to the console, and the page each starts on. */
export const CONSOLE_ROLES = ['ops', 'auditor', 'patient', 'gp', 'clinician'] as const satisfies readonly Role[];
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

export const HOME: Record<ConsoleRole, string> = {
  ops: '/ops',
  auditor: '/audit',
  patient: '/patient',
  gp: '/worklist',
  clinician: '/worklist',
};

/** Not signed in: the error filter sends the browser to the sign-in page. */
export class SignInRequired extends Error {}

/** A page this role may not open: answered as "page not found" (as another organisation's referral is). */
export class PageNotFound extends Error {}

/** Bad input to the console itself (a form field, a path parameter): a 400 page that says which. */
export class BadInput extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
  }
}

export function requireUser(request: FastifyRequest, ...roles: ConsoleRole[]): ConsoleUser {
  const user = request.session.user;
  if (!user) throw new SignInRequired();
  if (roles.length > 0 && !(roles as readonly string[]).includes(user.role)) throw new PageNotFound();
  return user;
}

/**
 * The OpenID Connect sign-in could not finish: 400 (the answer does not match the sign-in this browser started:
 * a wrong or missing state, no sign-in pending), 401 (the provider refused or rejected the code), 403 (signed in at
 * the provider but not allowed here, e.g. a role that maps to nothing), 503 (the provider did not answer).
 */
export class SignInFailed extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 503,
    readonly reason: string,
  ) {
    super(reason);
  }
}
