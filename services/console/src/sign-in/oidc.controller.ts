import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HOME, type ConsoleRole } from '../session';
import { Ui } from '../ui';
import { OidcSignIn } from './oidc';

/**
 * Sign-in through OpenID Connect (`CONSOLE_AUTH_MODE=oidc`): /sign-in offers the way in, /auth/login sends the browser
 * to the provider, /auth/callback takes its answer, /sign-out ends both sessions (docs/runbooks/console.md).
 */
@Controller()
export class OidcSignInController {
  constructor(
    private readonly ui: Ui,
    private readonly oidc: OidcSignIn,
  ) {}

  @Get('sign-in')
  async form(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.ui.page(request, reply, 'sign-in/oidc.njk');
  }

  @Get('auth/login')
  async login(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    // Someone signed in stays signed in: a link from elsewhere to /auth/login must not end their session.
    const user = request.session.user;
    if (user) return reply.redirect(HOME[user.role as ConsoleRole], 303);
    const url = await this.oidc.start(request);
    return reply.header('cache-control', 'no-store').redirect(url, 303);
  }

  @Get('auth/callback')
  async callback(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    try {
      const user = await this.oidc.finish(request);
      // A new session id once signed in (no fixation); the tokens stay on the server.
      await request.session.regenerate();
      request.session.user = user;
      return reply.redirect(HOME[user.role as ConsoleRole], 303);
    } catch (e) {
      // No session survives a failed sign-in: neither the pending one nor a half-made one.
      await request.session.destroy();
      throw e;
    }
  }

  @Post('sign-out')
  async signOut(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const idToken = request.session.user?.idToken;
    await request.session.destroy();
    return reply.redirect(this.oidc.signOutUrl(idToken), 303);
  }
}
