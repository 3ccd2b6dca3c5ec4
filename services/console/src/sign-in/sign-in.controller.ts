import { Body, Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { mintDevToken } from '@sonet/auth';
import { nhsNumberSchema, odsCodeSchema } from '@sonet/contracts';
import { CONSOLE_CONFIG, type ConsoleConfig } from '../config';
import { parse } from '../forms';
import { CONSOLE_ROLES, HOME, requireUser, type ConsoleRole } from '../session';
import { Ui } from '../ui';

const ROLE_LABELS: Record<ConsoleRole, string> = {
  ops: 'Operations',
  auditor: 'Auditor',
  patient: 'Patient',
  gp: 'GP (referring practice)',
  clinician: 'Clinician (receiving team)',
};

export const devSignInSchema = z
  .object({
    role: z.enum(CONSOLE_ROLES, { message: 'choose a role' }),
    organisation: z.string().trim().toUpperCase().pipe(odsCodeSchema),
    nhsNumber: z.string().trim().optional(),
    _csrf: z.string().optional(),
  })
  .transform((f, ctx) => {
    if (f.role !== 'patient') return { role: f.role, organisation: f.organisation };
    const nhs = nhsNumberSchema.safeParse(f.nhsNumber ?? '');
    if (!nhs.success) {
      ctx.addIssue({ code: 'custom', path: ['nhsNumber'], message: 'a patient signs in with a valid NHS number' });
      return z.NEVER;
    }
    return { role: f.role, organisation: f.organisation, nhsNumber: nhs.data };
  });

/** Either sign-in: the start page of whoever is signed in, and who that is. */
@Controller()
export class HomeController {
  constructor(private readonly ui: Ui) {}

  @Get()
  async home(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const user = request.session.user;
    return reply.redirect(user ? HOME[user.role as ConsoleRole] : '/sign-in', 303);
  }

  /** Who is signed in (role, organisation, identity): a page that calls no service. */
  @Get('account')
  async account(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    requireUser(request);
    return this.ui.page(request, reply, 'account.njk');
  }
}

/**
 * Local sign-in (`CONSOLE_AUTH_MODE=dev`): pick a role and an organisation, and the development issuer signs the
 * token the services trust. A deployment signs in through OpenID Connect instead (OidcSignInController).
 */
@Controller()
export class SignInController {
  constructor(
    private readonly ui: Ui,
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
  ) {}

  @Get('sign-in')
  async form(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.ui.page(request, reply, 'sign-in/dev.njk', { roles: CONSOLE_ROLES.map((value) => ({ value, text: ROLE_LABELS[value] })) });
  }

  @Post('sign-in')
  async signIn(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown) {
    const form = parse(devSignInSchema, body);
    const subject = `${form.role}@${form.organisation}`;
    const token = await mintDevToken(this.config.AUTH_DEV_ISSUER_DIR, {
      role: form.role,
      organisation: form.organisation,
      subject,
      ttlSeconds: this.config.CONSOLE_SESSION_IDLE_MINUTES * 60 * 16,
      ...('nhsNumber' in form ? { nhsNumber: form.nhsNumber } : {}),
    });
    // A new session id on sign-in (no fixation); the token stays on the server.
    await request.session.regenerate();
    request.session.user = { role: form.role, organisation: form.organisation, subject, token };
    return reply.redirect(HOME[form.role], 303);
  }

  @Post('sign-out')
  async signOut(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await request.session.destroy();
    return reply.redirect('/sign-in', 303);
  }
}
