import { Body, Controller, HttpCode, Injectable, Module, Param, Post, Res, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { configureHttpApp } from '../src/http/bootstrap';
import { IDEMPOTENCY_STORE, IdempotencyInterceptor, IdempotencyOperation, type IdempotencyStore } from '../src/http/idempotency';
import { unavailableProblem, validationProblem } from '../src/http/problem';

/** What the endpoints did: each run of a handler, and a gate that holds a slow one until the test opens it. */
const runs: string[] = [];
let gate: Promise<void> = Promise.resolve();
const operations: (string | undefined)[] = [];
const failed = new Set<string>();

@Controller('things')
class ThingsController {
  @Post()
  @HttpCode(202)
  async create(@Body() body: { name?: string }, @Res({ passthrough: true }) reply: FastifyReply) {
    await gate;
    if (body?.name === 'bad') throw validationProblem([{ name: 'name', reason: 'not this one' }]);
    if (body?.name === 'boom') {
      runs.push('boom');
      throw new Error('the database went away');
    }
    if (body?.name === 'busy' && !runs.includes('busy')) {
      runs.push('busy');
      throw unavailableProblem('nothing was done; try again', { retrySafe: true });
    }
    const id = `thing-${runs.push(body?.name ?? '')}`;
    void reply.header('location', `/things/${id}`);
    return { id };
  }

  /** Answers the operation id handlers derive their ids from; the first run of each `fail` key fails retry-safe. */
  @Post('operation')
  @HttpCode(200)
  operation(@Body() body: { fail?: string }, @IdempotencyOperation() operation: string | undefined) {
    operations.push(operation);
    if (body?.fail && !failed.has(body.fail)) {
      failed.add(body.fail);
      throw unavailableProblem('not yet', { retrySafe: true });
    }
    return { operation: operation ?? null };
  }

  @Post(':id/touch')
  @HttpCode(200)
  touch(@Param('id') id: string) {
    runs.push(`touch ${id}`);
    return { touched: id };
  }
}

/** Stands in for the bearer-token guard: the caller comes from a test header. */
@Injectable()
class TestCallerGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest & { principal?: unknown }>();
    const [organisation, subject] = String(request.headers['x-test-caller'] ?? 'A81001|gp-1').split('|');
    request.principal = { organisation, subject, role: 'gp' };
    return true;
  }
}

/**
 * The Idempotency-Key contract, run against each store: the in-memory one (unit) and PostgreSQL (integration).
 * `makeStore(ttlMs, inProgressTimeoutMs)` gives a fresh store whose keys live ttlMs, and whose unanswered claims are
 * taken to have died with their process after inProgressTimeoutMs.
 */
export function describeIdempotencyContract(
  name: string,
  makeStore: (ttlMs: number, inProgressTimeoutMs: number) => Promise<IdempotencyStore> | IdempotencyStore,
): void {
  describe(`Idempotency-Key on POST (${name})`, () => {
    let app: NestFastifyApplication;
    const TTL_MS = 1500;
    const IN_PROGRESS_MS = 1000;

    beforeAll(async () => {
      const store = await makeStore(TTL_MS, IN_PROGRESS_MS);
      @Module({
        controllers: [ThingsController],
        providers: [
          { provide: IDEMPOTENCY_STORE, useValue: store },
          { provide: APP_GUARD, useClass: TestCallerGuard },
          { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
        ],
      })
      class TestModule {}
      app = await NestFactory.create<NestFastifyApplication>(TestModule, new FastifyAdapter(), { logger: false });
      configureHttpApp(app);
      await app.init();
      await app.getHttpAdapter().getInstance().ready();
    });
    afterAll(() => app?.close());
    beforeEach(() => {
      runs.length = 0;
      gate = Promise.resolve();
    });

    let n = 0;
    const newKey = () => `key-${Date.now()}-${++n}`;
    const post = (body: unknown, headers: Record<string, string> = {}, url = '/things') =>
      app
        .getHttpAdapter()
        .getInstance()
        .inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(body) });

    it('runs a request without a key every time', async () => {
      await post({ name: 'a' });
      await post({ name: 'a' });
      expect(runs).toEqual(['a', 'a']);
    });

    it('answers the same key and body with the first answer (status, body, Location), running the handler once', async () => {
      const key = newKey();
      const first = await post({ name: 'a', n: 1 }, { 'idempotency-key': key });
      const again = await post({ n: 1, name: 'a' }, { 'idempotency-key': key });
      expect(first.statusCode).toBe(202);
      expect(again.statusCode).toBe(202);
      expect(again.json()).toEqual(first.json());
      expect(again.headers.location).toBe(first.headers.location);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(runs).toEqual(['a']);
    });

    it('answers 422 problem+json to the same key with a different body, or on another endpoint', async () => {
      const key = newKey();
      await post({ name: 'a' }, { 'idempotency-key': key });
      const other = await post({ name: 'b' }, { 'idempotency-key': key });
      expect(other.statusCode).toBe(422);
      expect(other.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(other.json()).toMatchObject({ type: 'urn:sonet:problem:idempotency-key-reused' });
      expect((await post({ name: 'a' }, { 'idempotency-key': key }, '/things/x/touch')).statusCode).toBe(422);
      expect(runs).toEqual(['a']);
    });

    it('runs one of two concurrent requests with the same key; the other answers 409 while it runs, then the first answer', async () => {
      const key = newKey();
      let open!: () => void;
      gate = new Promise((resolve) => (open = resolve));
      const first = post({ name: 'slow' }, { 'idempotency-key': key });
      await new Promise((r) => setTimeout(r, 100));
      const concurrent = await post({ name: 'slow' }, { 'idempotency-key': key });
      expect(concurrent.statusCode).toBe(409);
      expect(concurrent.json()).toMatchObject({ type: 'urn:sonet:problem:idempotency-key-in-progress' });
      open();
      expect((await first).statusCode).toBe(202);
      const after = await post({ name: 'slow' }, { 'idempotency-key': key });
      expect(after.json()).toEqual((await first).json());
      expect(runs).toEqual(['slow']);
    });

    it('lets a retry take over a key whose request never answered (its process died) once the in-progress timeout passes', async () => {
      const key = newKey();
      let open!: () => void;
      gate = new Promise((resolve) => (open = resolve));
      const dead = post({ name: 'slow' }, { 'idempotency-key': key });
      await new Promise((r) => setTimeout(r, 100));
      gate = Promise.resolve();
      expect((await post({ name: 'slow' }, { 'idempotency-key': key })).statusCode).toBe(409);
      await new Promise((r) => setTimeout(r, IN_PROGRESS_MS + 200));
      const retried = await post({ name: 'slow' }, { 'idempotency-key': key });
      expect(retried.statusCode).toBe(202);
      expect(retried.headers['idempotent-replayed']).toBeUndefined();
      expect(runs).toEqual(['slow']);
      open();
      await dead;
    });

    it('keeps keys per caller: the same key from another caller (subject or organisation) is another request', async () => {
      const key = newKey();
      const a = await post({ name: 'a' }, { 'idempotency-key': key, 'x-test-caller': 'A81001|gp-1' });
      const b = await post({ name: 'a' }, { 'idempotency-key': key, 'x-test-caller': 'B82005|gp-1' });
      const c = await post({ name: 'a' }, { 'idempotency-key': key, 'x-test-caller': 'A81001|gp-2' });
      expect(new Set([a.json().id, b.json().id, c.json().id]).size).toBe(3);
      expect(runs).toHaveLength(3);
    });

    it('forgets a key once it expires', async () => {
      const key = newKey();
      await post({ name: 'a' }, { 'idempotency-key': key });
      await new Promise((r) => setTimeout(r, TTL_MS + 200));
      await post({ name: 'b' }, { 'idempotency-key': key });
      expect(runs).toEqual(['a', 'b']);
    });

    it('replays a 4xx problem without running the handler again', async () => {
      const bad = newKey();
      expect((await post({ name: 'bad' }, { 'idempotency-key': bad })).statusCode).toBe(400);
      const replayed = await post({ name: 'bad' }, { 'idempotency-key': bad });
      expect(replayed.statusCode).toBe(400);
      expect(replayed.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(replayed.headers['idempotent-replayed']).toBe('true');
    });

    it('keeps a 5xx answer too: a failed request whose effect may have happened is never run again blindly', async () => {
      const boom = newKey();
      const first = await post({ name: 'boom' }, { 'idempotency-key': boom });
      expect(first.statusCode).toBe(500);
      const again = await post({ name: 'boom' }, { 'idempotency-key': boom });
      expect(again.statusCode).toBe(500);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.json()).toMatchObject({ type: 'urn:sonet:problem:internal', status: 500 });
      expect(runs).toEqual(['boom']);
    });

    it('runs again after a 5xx the handler marked retry-safe (nothing was done, or the retry converges)', async () => {
      const key = newKey();
      expect((await post({ name: 'busy' }, { 'idempotency-key': key })).statusCode).toBe(503);
      const retried = await post({ name: 'busy' }, { 'idempotency-key': key });
      expect(retried.statusCode).toBe(202);
      expect(retried.headers['idempotent-replayed']).toBeUndefined();
      expect(runs).toEqual(['busy', 'busy']);
    });

    it('gives handlers one operation id per caller, key and request: a retry gets the same, anything else another', async () => {
      const op = async (body: unknown, headers: Record<string, string>) =>
        ((await post(body, headers, '/things/operation')).json() as { operation: string | null }).operation;
      const key = newKey();
      const fail = newKey();
      operations.length = 0;
      expect((await post({ fail }, { 'idempotency-key': key }, '/things/operation')).statusCode).toBe(503);
      const retried = await op({ fail }, { 'idempotency-key': key });
      expect(operations).toEqual([retried, retried]);
      expect(retried).toMatch(/^[0-9a-f]{64}$/);
      expect(await op({ fail }, { 'idempotency-key': newKey() })).not.toBe(retried);
      expect(await op({ fail }, { 'idempotency-key': key, 'x-test-caller': 'B82005|gp-1' })).not.toBe(retried);
      expect(await op({}, {})).toBeNull();
      await new Promise((r) => setTimeout(r, TTL_MS + 200));
      expect(await op({ other: 1 }, { 'idempotency-key': key })).not.toBe(retried);
    });

    it('refuses a key that is not 1 to 255 printable ASCII characters, without echoing it', async () => {
      const res = await post({ name: 'a' }, { 'idempotency-key': 'x'.repeat(256) });
      expect(res.statusCode).toBe(400);
      expect(res.body).not.toContain('x'.repeat(256));
      expect(runs).toEqual([]);
    });
  });
}
