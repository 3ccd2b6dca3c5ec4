import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { CustomTransportStrategy } from '@nestjs/microservices';
import { SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProblemDetailsFilter } from './problem.filter';
import { problemType, type ProblemBody } from './problem';
import { createOpenApiDocument } from './openapi';
import { serveMetrics } from './metrics';

/**
 * Fastify rejects some requests before any route runs (a path that is not valid percent-encoded UTF-8, a path
 * parameter over its length limit), so Nest's ProblemDetailsFilter never sees them: answer those as problem+json too,
 * without the URL (it holds the offending value).
 */
function answerFrameworkError(error: { code?: string; statusCode?: number }, _request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  const detail = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path parameter is too long.' : 'The request URL is not valid.';
  void reply
    .status(status)
    .header('content-type', 'application/problem+json')
    .send({ type: problemType('bad-request'), title: 'Bad request', status, detail });
}

export interface ServiceBootstrapOptions {
  readonly module: Type<unknown> | DynamicModule;
  readonly host: string;
  readonly port: number;
  readonly openApi: { title: string; description: string; version: string };
  /** Kafka consumers run as a Nest microservice (custom transport) beside the HTTP API. */
  readonly transport?: (app: INestApplication) => CustomTransportStrategy;
}

/** Creates the HTTP app (Fastify), its OpenAPI document at /docs, and starts consumers and the listener. */
export async function createServiceApp(options: ServiceBootstrapOptions): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    options.module,
    new FastifyAdapter({ bodyLimit: 1024 * 1024, trustProxy: true, frameworkErrors: answerFrameworkError }),
    { bufferLogs: true },
  );
  app.useLogger(app.get(Logger));
  configureHttpApp(app);
  serveMetrics(app.getHttpAdapter().getInstance());
  app.enableShutdownHooks();

  SwaggerModule.setup('docs', app, () => createOpenApiDocument(app, options.openApi), { jsonDocumentUrl: 'docs/openapi.json' });

  if (options.transport) {
    app.connectMicroservice({ strategy: options.transport(app) }, { inheritAppConfig: true });
    await app.startAllMicroservices();
  }
  await app.listen({ port: options.port, host: options.host });
  return app;
}

/** application/json, with or without parameters (charset): the only body Fastify parses here. */
const JSON_MEDIA_TYPE = /^application\/json\s*(?:;|$)/i;

const hasBody = (headers: Record<string, string | string[] | undefined>): boolean =>
  headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;

/**
 * What every service's HTTP app shares: errors answered as problem+json, and request bodies that are JSON.
 * A body of any other type (or one without a Content-Type) is refused with 415 before it is parsed or reaches
 * a handler, so no service can mistake a form or a text body for a malformed JSON one (400). A request without
 * a body needs no Content-Type: some decisions take none.
 */
export function configureHttpApp(app: NestFastifyApplication): void {
  app.useGlobalFilters(new ProblemDetailsFilter());
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', async (request, reply) => {
      if (!hasBody(request.headers)) return;
      const type = request.headers['content-type'];
      if (type && JSON_MEDIA_TYPE.test(type)) return;
      // The media type is not echoed back: it is the caller's input.
      const body: ProblemBody = {
        type: problemType('unsupported-media-type'),
        title: 'Unsupported media type',
        status: 415,
        detail: 'Request bodies must be JSON (Content-Type: application/json).',
        instance: request.url.split('?')[0],
      };
      return reply.status(415).header('content-type', 'application/problem+json').header('accept-post', 'application/json').send(body);
    });
}
