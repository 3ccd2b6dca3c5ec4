import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import nunjucks from 'nunjucks';
import { CONSOLE_CONFIG, type ConsoleConfig } from './config';

/** services/console/views, from the sources (tests) or from dist/services/console/src (a build). */
export function viewsDirectory(): string {
  const candidates = [resolve(__dirname, '../views'), resolve(__dirname, '../../../../services/console/views')];
  const found = candidates.find((c) => existsSync(join(c, 'layout.njk')));
  if (!found) throw new Error(`console views not found (looked in ${candidates.join(', ')})`);
  return found;
}

/** services/console/public: the console's own script. */
export const publicDirectory = (): string => join(viewsDirectory(), '../public');

/** nhsuk-frontend's dist folder: its Nunjucks macros (nhsuk/components/...) and its compiled CSS, JS and assets. */
export const nhsukDirectory = (): string => join(dirname(require.resolve('nhsuk-frontend/package.json')), 'dist');

/** Renders pages with the NHS.UK design system's Nunjucks macros; every value is escaped unless marked safe. */
@Injectable()
export class Ui {
  private readonly env: nunjucks.Environment;

  constructor(@Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig) {
    this.env = new nunjucks.Environment(new nunjucks.FileSystemLoader([viewsDirectory(), nhsukDirectory()], { noCache: false }), {
      autoescape: true,
      throwOnUndefined: false,
    });
    this.env.addFilter('date', (value: unknown) => formatDate(value));
    this.env.addFilter('json', (value: unknown) => JSON.stringify(value, null, 2));
  }

  /** Renders a page with what every page needs: the user, a CSRF token, a fresh form-submission id and PALS. */
  async page(request: FastifyRequest, reply: FastifyReply, template: string, context: Record<string, unknown> = {}, status = 200) {
    // The page template's one inline script (NHS.UK's js-enabled class) runs under a per-response nonce.
    const cspNonce = randomBytes(16).toString('base64');
    const html = this.html(request, reply, template, { ...context, cspNonce });
    return reply
      .status(status)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header(
        'content-security-policy',
        `default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self' 'nonce-${cspNonce}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
      )
      .send(html);
  }

  html(request: FastifyRequest, reply: FastifyReply, template: string, context: Record<string, unknown>): string {
    const user = request.session?.user;
    return this.env.render(template, {
      ...context,
      user: user ? { role: user.role, organisation: user.organisation, subject: user.subject } : null,
      csrfToken: request.session ? reply.generateCsrf() : '',
      submission: randomUUID(),
      pals: {
        name: this.config.PALS_NAME,
        phone: this.config.PALS_PHONE,
        email: this.config.PALS_EMAIL,
        url: this.config.PALS_URL,
        hours: this.config.PALS_OPENING_HOURS,
      },
      temporalUi: this.config.TEMPORAL_UI_URL,
      traceViewer: this.config.TRACE_VIEWER_URL,
      path: request.url.split('?')[0],
    });
  }
}

export function formatDate(value: unknown): string {
  if (typeof value !== 'string' && !(value instanceof Date)) return '';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleString('en-GB', { timeZone: 'Europe/London', dateStyle: 'medium', timeStyle: 'short' });
}
