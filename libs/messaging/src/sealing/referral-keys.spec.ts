import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { patientDetailsSchema } from '@sonet/contracts';
import { DependencyUnavailableError, unreachableDependency } from '@sonet/service-kit';
import { PermanentError } from '../inbox/inbox-pipeline';
import {
  CachedReferralKeySource,
  HttpReferralKeySource,
  REFERRAL_KEYS_PATH,
  SealedFieldOpener,
  type KeyLookup,
  type ReferralKeySource,
} from './referral-keys';
import { sealField, type DataKey } from './sealed-field';

const dataKey = (): DataKey => ({ kid: randomBytes(16).toString('base64url'), key: randomBytes(32) });

/** A key source that counts its calls and answers what the test says. */
const counting = (answer: (id: string) => Promise<KeyLookup>) => {
  const calls: string[] = [];
  const source: ReferralKeySource = { keyFor: (id) => (calls.push(id), answer(id)) };
  return { calls, source };
};

describe('the key cache', () => {
  it('fetches a referral’s key once while it is fresh, and shares one fetch between concurrent lookups', async () => {
    const k = dataKey();
    const { calls, source } = counting(async () => k);
    const cache = new CachedReferralKeySource(source, { ttlMs: 60_000 });
    const id = randomUUID();
    await Promise.all([cache.keyFor(id), cache.keyFor(id)]);
    await cache.keyFor(id);
    expect(calls).toEqual([id]);
  });

  it('asks again once the time bound has passed (a destroyed key stops being used within it)', async () => {
    let answer: KeyLookup = dataKey();
    const { calls, source } = counting(async () => answer);
    const cache = new CachedReferralKeySource(source, { ttlMs: 50 });
    const id = randomUUID();
    await cache.keyFor(id);
    answer = 'destroyed';
    await new Promise((r) => setTimeout(r, 80));
    expect(await cache.keyFor(id)).toBe('destroyed');
    expect(calls).toHaveLength(2);
  });

  it('holds at most `max` keys (the least recently used goes)', async () => {
    const { calls, source } = counting(async () => dataKey());
    const cache = new CachedReferralKeySource(source, { max: 2 });
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of [a, b, c, a]) await cache.keyFor(id);
    expect(calls).toEqual([a, b, c, a]);
  });

  it('does not remember a failure: the next lookup asks again', async () => {
    let fail = true;
    const k = dataKey();
    const { calls, source } = counting(async () => {
      if (fail) throw new Error('unreachable');
      return k;
    });
    const cache = new CachedReferralKeySource(source);
    const id = randomUUID();
    await expect(cache.keyFor(id)).rejects.toThrow('unreachable');
    fail = false;
    expect(await cache.keyFor(id)).toBe(k);
    expect(calls).toHaveLength(2);
  });
});

describe('the referral service’s key endpoint, as a consumer sees it', () => {
  let server: Server;
  let base: string;
  const answers = new Map<string, { status: number; body?: unknown }>();
  const seen: { url: string; authorization: string | undefined }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
      const a = answers.get((req.url ?? '').split('/').pop() ?? '') ?? { status: 500 };
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body ?? {}));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  const source = () => new HttpReferralKeySource(base, async () => 'service-token');

  it('asks with the service’s token and reads the key', async () => {
    const id = randomUUID();
    const k = dataKey();
    answers.set(id, { status: 200, body: { referralId: id, kid: k.kid, alg: 'A256GCM', key: k.key.toString('base64url') } });
    expect(await source().keyFor(id)).toEqual(k);
    expect(seen.at(-1)).toEqual({ url: `${REFERRAL_KEYS_PATH}/${id}`, authorization: 'Bearer service-token' });
  });

  it('reads 410 as a destroyed key, an answer rather than a failure', async () => {
    const id = randomUUID();
    answers.set(id, { status: 410 });
    expect(await source().keyFor(id)).toBe('destroyed');
  });

  it('treats 404 (no key, and there never will be) as permanent, and 5xx or 403 as failures to retry', async () => {
    const [none, down, refused] = [randomUUID(), randomUUID(), randomUUID()];
    answers.set(none, { status: 404 });
    answers.set(down, { status: 503 });
    answers.set(refused, { status: 403 });
    await expect(source().keyFor(none)).rejects.toBeInstanceOf(PermanentError);
    for (const id of [down, refused]) {
      const e = await source()
        .keyFor(id)
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(Error);
      expect(e).not.toBeInstanceOf(PermanentError);
    }
  });

  it('says the referral service is unavailable (retried until it is back, never dead-lettered) when unreachable or 502/503/504', async () => {
    const unreachable = await new HttpReferralKeySource('http://127.0.0.1:9', async () => 't', 500)
      .keyFor(randomUUID())
      .catch((x: unknown) => x);
    expect(unreachable).toBeInstanceOf(DependencyUnavailableError);
    expect(unreachableDependency(unreachable)).toBe('referral-service');
    for (const status of [502, 503, 504]) {
      const id = randomUUID();
      answers.set(id, { status });
      expect(
        unreachableDependency(
          await source()
            .keyFor(id)
            .catch((x: unknown) => x),
        ),
      ).toBe('referral-service');
    }
    for (const status of [500, 401, 403]) {
      const id = randomUUID();
      answers.set(id, { status });
      const e = await source()
        .keyFor(id)
        .catch((x: unknown) => x);
      expect({ status, unavailable: unreachableDependency(e) }).toEqual({ status, unavailable: undefined });
    }
  });

  it('fails (to retry) when the referral service answers another referral’s key', async () => {
    const id = randomUUID();
    const k = dataKey();
    answers.set(id, { status: 200, body: { referralId: randomUUID(), kid: k.kid, alg: 'A256GCM', key: k.key.toString('base64url') } });
    await expect(source().keyFor(id)).rejects.toThrow('malformed');
  });
});

describe('the opener', () => {
  const referralId = randomUUID();
  const context = { referralId, eventType: 'referral.requested.v2', field: 'patient' };
  const patient = { nhsNumber: '9434765919', name: 'Alex Example', preferredChannel: 'letter' as const };

  it('opens a sealed field with its referral’s key', async () => {
    const k = dataKey();
    const opener = new SealedFieldOpener({ keyFor: async () => k });
    expect(await opener.open(context, sealField(k, context, patient), patientDetailsSchema)).toEqual({ ok: true, value: patient });
  });

  it('says the key is destroyed instead of failing: the consumer skips deliberately', async () => {
    const opener = new SealedFieldOpener({ keyFor: async () => 'destroyed' });
    expect(await opener.open(context, sealField(dataKey(), context, patient), patientDetailsSchema)).toEqual({
      ok: false,
      reason: 'key-destroyed',
    });
  });
});
