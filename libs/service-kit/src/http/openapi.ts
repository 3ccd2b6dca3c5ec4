import { applyDecorators, type INestApplication } from '@nestjs/common';
import { ApiBody, ApiQuery, ApiResponse, DocumentBuilder, SwaggerModule, type OpenAPIObject, type SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';

/**
 * The OpenAPI document of a service says what each endpoint answers: its success body (derived from the zod schema
 * the answer is built to, never a hand-written copy) and every problem+json answer it can give. A client generator
 * or a schema-driven fuzzer (infra/local/fuzz.sh) can then check every answer against it.
 */

export const PROBLEM_JSON = 'application/problem+json';
const PROBLEM_DETAILS = 'ProblemDetails';
const PROBLEM_REF = `#/components/schemas/${PROBLEM_DETAILS}`;

/** RFC 9457 problem details as the services answer them, with the extensions they add (more may come: it stays open). */
export const problemDetailsSchema = z
  .object({
    type: z.string().describe('A URN under urn:sonet:problem:, or about:blank.'),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string().optional(),
    instance: z.string().optional().describe('The path of the request.'),
    'invalid-params': z
      .array(z.object({ name: z.string(), reason: z.string() }))
      .optional()
      .describe('Each invalid field (400); values are never echoed.'),
    currentState: z.string().optional().describe('409/412: the state the resource is in.'),
    allowedActions: z.array(z.string()).optional().describe('409/412: the decisions that state allows.'),
    revision: z.int().optional().describe('409/412: the current revision (ETag).'),
    manifestVersion: z.int().optional().describe('412: the current manifest version.'),
    itemStatus: z.string().optional().describe('409: the status of the manifest item that cannot change.'),
    referralSpecialty: z.string().optional().describe("422: the referral's specialty."),
    teamSpecialty: z.string().optional().describe("422: the chosen team's specialty."),
  })
  .loose();

/**
 * Unicode property escapes (`\p{Cc}`) are JavaScript regex syntax that many OpenAPI tools (Python's re among them)
 * cannot read: the character classes the services use are spelt out as ranges, meaning the same.
 */
const PORTABLE_CLASSES: Record<string, string> = { '\\p{Cc}': '\\u0000-\\u001F\\u007F-\\u009F', '\\p{Cs}': '\\uD800-\\uDFFF' };
const portablePatterns = (node: unknown): void => {
  if (Array.isArray(node)) return node.forEach(portablePatterns);
  if (!node || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  if (typeof o.pattern === 'string') {
    o.pattern = Object.entries(PORTABLE_CLASSES).reduce((p, [from, to]) => p.split(from).join(to), o.pattern);
  }
  Object.values(o).forEach(portablePatterns);
};

/** An OpenAPI 3.0 schema of a zod schema: what a service answers (output) or what it takes (input). */
export function openApiSchema(schema: z.ZodType, io: 'input' | 'output' = 'output'): SchemaObject {
  const json = z.toJSONSchema(schema, { io, target: 'openapi-3.0', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  portablePatterns(json);
  return json as SchemaObject;
}

/** What each problem status means on any endpoint of these services (an endpoint may say more). */
const PROBLEM_MEANINGS: Record<number, string> = {
  400: 'The request is not valid: invalid-params names each invalid field or parameter (values are never echoed).',
  401: 'No bearer token, or not a valid one (WWW-Authenticate says which).',
  403: 'The caller (role or party) may not do this.',
  404: 'No such resource, or not one the caller may see.',
  409: 'Not possible in the current state (currentState, allowedActions), or the same Idempotency-Key is still running.',
  412: 'If-Match names a revision that is no longer current.',
  413: 'The request body is over 1 MiB.',
  410: 'The resource existed and was destroyed for good (e.g. a referral data key after erasure).',
  415: 'The request body is not JSON (Content-Type: application/json).',
  422: 'The request is understood but refused (e.g. an Idempotency-Key reused with another body).',
  503: 'A dependency the request needs does not answer; retry later.',
};

/** An answer given as problem+json, with what it means here (default: the status's general meaning). */
export type ProblemAnswer = number | readonly [status: number, description: string];

/** Documents problem+json answers in one line: `@ApiProblems(400, 404, [409, 'the transfer is not failed'])`. */
export function ApiProblems(...answers: ProblemAnswer[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...answers.map((a) => {
      const [status, description] = typeof a === 'number' ? [a, PROBLEM_MEANINGS[a] ?? 'A problem.'] : a;
      return ApiResponse({
        status,
        description: `problem+json: ${description}`,
        content: { [PROBLEM_JSON]: { schema: { $ref: PROBLEM_REF } } },
      });
    }),
  ) as MethodDecorator & ClassDecorator;
}

/** Documents the success answer with its schema (application/json unless said otherwise). */
export function ApiAnswer(
  status: number,
  schema: z.ZodType,
  description: string,
  options: { mediaType?: string; headers?: Record<string, { description: string }> } = {},
): MethodDecorator & ClassDecorator {
  const headers = Object.fromEntries(
    Object.entries(options.headers ?? {}).map(([name, h]) => [name, { ...h, schema: { type: 'string' as const } }]),
  );
  return ApiResponse({
    status,
    description,
    content: { [options.mediaType ?? 'application/json']: { schema: openApiSchema(schema) } },
    ...(options.headers ? { headers } : {}),
  });
}

/** Documents the JSON request body with its schema (what the endpoint parses it with). */
export function ApiJsonBody(schema: z.ZodType, options: { required?: boolean; description?: string } = {}): MethodDecorator {
  return ApiBody({
    schema: openApiSchema(schema, 'input'),
    required: options.required ?? true,
    ...(options.description ? { description: options.description } : {}),
  });
}

/** Documents each query parameter of a zod object schema (what the endpoint parses its query with). */
export function ApiQueryParams(schema: z.ZodObject, descriptions: Record<string, string> = {}): MethodDecorator {
  const json = openApiSchema(schema, 'input') as { properties?: Record<string, SchemaObject>; required?: string[] };
  return applyDecorators(
    ...Object.entries(json.properties ?? {}).map(([name, s]) =>
      ApiQuery({
        name,
        required: (json.required ?? []).includes(name),
        schema: s,
        ...(descriptions[name] ? { description: descriptions[name] } : {}),
      }),
    ),
  );
}

/** The service's OpenAPI document: bearer tokens, and the ProblemDetails schema the problem answers refer to. */
export function createOpenApiDocument(app: INestApplication, info: { title: string; description: string; version: string }): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle(info.title)
    .setDescription(info.description)
    .setVersion(info.version)
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components ??= {};
  document.components.schemas = { ...document.components.schemas, [PROBLEM_DETAILS]: openApiSchema(problemDetailsSchema) };
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const) {
      const op = item[method];
      if (op) documentFrameworkAnswers(path, op);
      if (op && method === 'post') documentIdempotencyKey(op);
    }
  }
  return document;
}

/**
 * Every POST takes Idempotency-Key (the interceptor is global, installed for every service by ServiceKitModule), so
 * every POST documents it, whether or not its controller says more about it.
 */
function documentIdempotencyKey(op: Operation): void {
  // The interceptor's own answers, on every POST.
  op.responses['409'] ??= problemResponse('A request with this Idempotency-Key is still running: retry shortly.');
  op.responses['422'] ??= problemResponse('This Idempotency-Key was used for a different request.');
  op.parameters ??= [];
  if (op.parameters.some((p) => 'name' in p && p.in === 'header' && p.name.toLowerCase() === 'idempotency-key')) return;
  op.parameters.push({
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description:
      'Retry safely: the same key (per caller, 24 h) with the same body answers the first answer, 5xx included unless a retry ' +
      'converges on the same effect; another body with it is 422; while the first still runs, 409.',
    schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
  });
}

type Operation = NonNullable<OpenAPIObject['paths'][string]['get']>;
const problemResponse = (description: string) => ({
  description: `problem+json: ${description}`,
  content: { [PROBLEM_JSON]: { schema: { $ref: PROBLEM_REF } } },
});

/**
 * What every route can answer before its handler runs, whatever its decorators say: a path parameter that a handler
 * reads as a whole (`@Param() params`) is still a parameter of the path; Fastify refuses a URL that is not valid
 * percent-encoded UTF-8 (400) and a path parameter over its length limit (414), as problem+json (bootstrap.ts).
 */
function documentFrameworkAnswers(path: string, op: Operation): void {
  const named = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');
  const parameters = (op.parameters ??= []) as { name?: string; in?: string }[];
  for (const name of named) {
    if (!parameters.some((p) => p.in === 'path' && p.name === name))
      parameters.push({ name, in: 'path', required: true, schema: { type: 'string' } } as never);
  }
  op.responses['400'] ??= problemResponse('The request URL is not valid (not percent-encoded UTF-8).');
  if (named.length > 0) op.responses['414'] ??= problemResponse('A path parameter is too long.');
}

/** The view's type as JSON carries it: readonly dropped, and numbers without brands (an ORM's Opt<number>). */
type Writable<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends number
    ? number
    : T extends readonly (infer U)[]
      ? Writable<U>[]
      : T extends object
        ? { -readonly [K in keyof T]: Writable<T[K]> }
        : T;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/**
 * Compile-time proof that a documented answer schema and the type the handler builds are the same shape (readonly
 * aside): `documents<ReferralView>()(referralViewSchema)` fails to type-check when a field is added to one only.
 */
export const documents =
  <View>() =>
  <S extends z.ZodType>(
    schema: S & (Same<z.output<S>, Writable<View>> extends true ? unknown : { __answerSchemaDiffersFromType: View }),
  ): S =>
    schema;
