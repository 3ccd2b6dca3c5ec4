import { Inject, Injectable, SetMetadata, createParamDecorator, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { forbiddenProblem, IS_PUBLIC, Problem, problemType } from '@sonet/service-kit';
import type { Principal, Role } from '../principal';
import { AuthenticationError, TokenVerifier } from '../verifier';

export const TOKEN_VERIFIER = Symbol('TokenVerifier');
const ROLES_KEY = Symbol('Roles');

/** Only these roles may call the route (checked after the token is verified). */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator => SetMetadata(ROLES_KEY, roles);

type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

/** The verified caller of the current request. */
/** The caller the guard authenticated for this request (for param decorators that read more than the principal). */
export const principalOf = (ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a public route');
  return principal;
};

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => principalOf(ctx));

const unauthorized = (detail: string) => new Problem({ type: problemType('unauthorized'), title: 'Unauthorized', status: 401, detail });

/**
 * Every HTTP route needs a valid bearer token unless marked @Public(); @Roles narrows who may call it.
 * 401 problem+json (with WWW-Authenticate) for a missing or invalid token, 403 for a role that may not.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const http = ctx.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header ?? '');
    if (!match?.[1]) {
      void http.getResponse<FastifyReply>().header('www-authenticate', 'Bearer realm="sonet"');
      throw unauthorized('A bearer token is required.');
    }
    try {
      request.principal = await this.verifier.verify(match[1]);
    } catch (e) {
      if (!(e instanceof AuthenticationError)) throw e;
      void http.getResponse<FastifyReply>().header('www-authenticate', `Bearer realm="sonet", error="invalid_token"`);
      throw unauthorized(e.message);
    }
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    if (roles && !roles.includes(request.principal.role)) {
      throw forbiddenProblem(`This action is for ${roles.join(', ')}; the caller is ${request.principal.role}.`);
    }
    return true;
  }
}
