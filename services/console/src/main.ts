import { randomBytes } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyStatic from '@fastify/static';
import { join } from 'node:path';
import { ConsoleModule } from './app.module';
import { readConsoleConfig, type ConsoleConfig } from './config';
import { ErrorPages } from './errors.filter';
import { OidcSignIn } from './sign-in/oidc';
import { nhsukDirectory, publicDirectory, Ui } from './ui';

/** The console's HTTP app: sessions, CSRF on every form POST, NHS.UK assets, pages. Exported for tests. */
export async function createConsoleApp(config: ConsoleConfig): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    ConsoleModule.forRoot(config),
    new FastifyAdapter({ bodyLimit: 64 * 1024, trustProxy: true, logger: false }),
    { logger: ['error', 'warn', 'log'] },
  );
  const production = config.NODE_ENV === 'production';
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    // Development: a fresh secret per start (sessions end with the process); production sets CONSOLE_SESSION_SECRET.
    secret: config.CONSOLE_SESSION_SECRET ?? randomBytes(32).toString('hex'),
    cookieName: production ? '__Host-console' : 'console.sid',
    saveUninitialized: false,
    rolling: true,
    cookie: { httpOnly: true, sameSite: 'lax', secure: production, path: '/', maxAge: config.CONSOLE_SESSION_IDLE_MINUTES * 60_000 },
  });
  await app.register(fastifyCsrf, { sessionPlugin: '@fastify/session' });
  await app.register(fastifyStatic, {
    root: join(nhsukDirectory(), 'nhsuk'),
    prefix: '/assets/nhsuk/',
    decorateReply: false,
    index: false,
    maxAge: production ? '1d' : 0,
  });
  await app.register(fastifyStatic, { root: publicDirectory(), prefix: '/', decorateReply: false, index: false, wildcard: false });
  const fastify = app.getHttpAdapter().getInstance();
  // Every form POST carries the session's CSRF token (_csrf); a POST without it never reaches a handler.
  fastify.addHook('preHandler', (request, reply, done) => {
    if (request.method !== 'POST') return done();
    fastify.csrfProtection(request, reply, done);
  });
  if (config.CONSOLE_AUTH_MODE === 'oidc') {
    // An access token about to expire is refreshed before the handler sends it to a service.
    const oidc = app.get(OidcSignIn);
    fastify.addHook('preHandler', async (request) => oidc.keepFresh(request));
  }
  fastify.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'same-origin');
    reply.header('x-frame-options', 'DENY');
    return payload;
  });
  app.useGlobalFilters(new ErrorPages(app.get(Ui)));
  app.enableShutdownHooks();
  return app;
}

async function main(): Promise<void> {
  const config = readConsoleConfig();
  const app = await createConsoleApp(config);
  await app.listen({ port: config.HTTP_PORT, host: config.HTTP_HOST });
  process.stdout.write(
    `${JSON.stringify({ level: 'info', service: 'console', msg: `console listening on http://${config.HTTP_HOST}:${config.HTTP_PORT}` })}\n`,
  );
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(
      `${JSON.stringify({ level: 'fatal', service: 'console', msg: 'failed to start', err: String((e as Error)?.stack ?? e) })}\n`,
    );
    process.exit(1);
  });
}
