import { Module, type Type } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { OpenAPIObject } from '@nestjs/swagger';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createOpenApiDocument, HealthModule } from '@sonet/service-kit';

/**
 * Every endpoint of every service documents its answers: the success body with a schema, and each problem+json
 * answer by the shared ProblemDetails schema. The documents are built from the services' controllers (found by
 * file name, so a new controller is checked without being listed here), with every dependency stubbed.
 * With OPENAPI_OUT=<dir> the documents are also written there (`FUZZ_DOCS=local bash infra/local/fuzz.sh` uses them
 * to fuzz a running network with this checkout's documents).
 */
const ROOT = join(__dirname, '../..');
const SERVICES = ['referral', 'records-transfer', 'notification', 'audit'] as const;
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

const controllersOf = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? controllersOf(join(dir, e.name)) : e.name.endsWith('.http.controller.ts') ? [join(dir, e.name)] : [],
  );

async function documentOf(service: string): Promise<OpenAPIObject> {
  const controllers = controllersOf(join(ROOT, 'services', service, 'src')).flatMap((file) =>
    Object.values(require(file) as Record<string, unknown>).filter(
      (v): v is Type => typeof v === 'function' && v.name.endsWith('Controller'),
    ),
  );
  @Module({ imports: [HealthModule.forRoot({ inject: [], useFactory: () => [] })], controllers })
  class DocumentModule {}
  const moduleRef = await Test.createTestingModule({ imports: [DocumentModule] })
    .useMocker(() => ({}))
    .compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  try {
    return createOpenApiDocument(app, { title: service, description: `${service} API`, version: '1' });
  } finally {
    await app.close();
  }
}

type Operation = {
  parameters?: { name: string; in: string }[];
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string; type?: string } }> }>;
  security?: unknown[];
  tags?: string[];
  requestBody?: { content: Record<string, { schema?: unknown }> };
};

describe.each(SERVICES)('the OpenAPI document of %s', (service) => {
  let doc: OpenAPIObject;
  beforeAll(async () => {
    doc = await documentOf(service);
    if (process.env.OPENAPI_OUT) {
      mkdirSync(process.env.OPENAPI_OUT, { recursive: true });
      writeFileSync(join(process.env.OPENAPI_OUT, `${service}.json`), JSON.stringify(doc, null, 2));
    }
  });

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      METHODS.filter((m) => (item as Record<string, unknown>)[m]).map((m) => ({
        at: `${m.toUpperCase()} ${path}`,
        op: (item as Record<string, Operation>)[m]!,
      })),
    );

  it('has the shared ProblemDetails schema', () => {
    expect(doc.components?.schemas?.ProblemDetails).toMatchObject({ type: 'object', required: ['type', 'title', 'status'] });
  });

  it("documents a success answer with its schema on every endpoint (the 422-only Martha's Rule route aside)", () => {
    const missing = operations()
      .filter(({ at }) => !at.includes('/urgent-inpatient-reviews'))
      .filter(
        ({ op }) =>
          !Object.entries(op.responses).some(
            ([status, r]) => status.startsWith('2') && Object.values(r.content ?? {}).some((c) => c.schema),
          ),
      )
      .map(({ at }) => at);
    expect(missing).toEqual([]);
  });

  it('documents every other answer as problem+json, and 401 on every endpoint that needs a token', () => {
    const wrong: string[] = [];
    for (const { at, op } of operations()) {
      for (const [status, r] of Object.entries(op.responses)) {
        if (status.startsWith('2')) continue;
        if (r.content?.['application/problem+json']?.schema?.$ref !== '#/components/schemas/ProblemDetails') wrong.push(`${at} ${status}`);
      }
      if (op.security?.length && !op.responses['401']) wrong.push(`${at}: no 401`);
      if (op.requestBody && !op.responses['415']) wrong.push(`${at}: a body, but no 415`);
    }
    expect(wrong).toEqual([]);
  });

  it('documents Idempotency-Key on every POST (the interceptor serves every POST of every service)', () => {
    const without = operations()
      .filter(({ at }) => at.startsWith('POST '))
      .filter(({ op }) => !(op.parameters ?? []).some((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key'))
      .map(({ at }) => at);
    expect(without).toEqual([]);
  });

  it('documents request bodies with their schema', () => {
    const bare = operations()
      .filter(({ op }) => op.requestBody && !op.requestBody.content['application/json']?.schema)
      .map(({ at }) => at);
    expect(bare).toEqual([]);
    expect(relative(ROOT, __dirname)).toBe('test/openapi');
  });
});
