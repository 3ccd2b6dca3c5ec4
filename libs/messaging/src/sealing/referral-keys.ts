import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import type { SealedFieldContext } from '@sonet/contracts';
import { PermanentError } from '../inbox/inbox-pipeline';
import { DependencyUnavailableError } from '@sonet/service-kit';
import { openField, type DataKey } from './sealed-field';

/** What the owning service says of a referral's key: the key, or that it was destroyed (erasure). */
export type KeyLookup = DataKey | 'destroyed';

/** Where a consumer gets a referral's data key. */
export interface ReferralKeySource {
  keyFor(referralId: string): Promise<KeyLookup>;
}

/** The answer of `GET /internal/v1/referral-keys/:referralId` (the referral service). */
export const referralKeyAnswerSchema = z.object({
  referralId: z.uuid(),
  kid: z.string().min(1),
  alg: z.literal('A256GCM'),
  key: z.string().regex(/^[A-Za-z0-9_-]{43}$/, '32 bytes, base64url'),
});

export const REFERRAL_KEYS_PATH = '/internal/v1/referral-keys';

/**
 * The referral service's key endpoint, called with this service's own token (role `system`). A destroyed key
 * (410) is an answer, not a failure; no key (404) will not change, so it is permanent; the referral service
 * unreachable or unavailable (502/503/504) is the moment's: the inbox handles the record again once it is back, never
 * dead-letters it (a restart of the referral service must not cost a patient their notification); anything else (a
 * 500, a refused token) is a failure the inbox retries and, if it lasts, dead-letters for a later replay.
 */
export class HttpReferralKeySource implements ReferralKeySource {
  constructor(
    private readonly baseUrl: string,
    private readonly token: () => Promise<string>,
    private readonly timeoutMs = 5_000,
  ) {}

  async keyFor(referralId: string): Promise<KeyLookup> {
    const url = `${this.baseUrl.replace(/\/$/, '')}${REFERRAL_KEYS_PATH}/${encodeURIComponent(referralId)}`;
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { authorization: `Bearer ${await this.token()}`, accept: 'application/json' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new DependencyUnavailableError(
        'referral-service',
        `the referral service could not be reached for a data key: ${(e as Error).name}`,
      );
    }
    if (res.status === 410) return 'destroyed';
    if (res.status === 404) throw new PermanentError('the referral service holds no data key for this referral');
    // Restarting, or behind a proxy that cannot reach it: the key will be there once it is back.
    if (res.status === 502 || res.status === 503 || res.status === 504)
      throw new DependencyUnavailableError('referral-service', `the referral service answered ${res.status} for a data key`);
    if (!res.ok) throw new Error(`the referral service answered ${res.status} for a data key`);
    const answer = referralKeyAnswerSchema.safeParse(await res.json());
    if (!answer.success || answer.data.referralId !== referralId) throw new Error('the referral service answered a malformed data key');
    return { kid: answer.data.kid, key: Buffer.from(answer.data.key, 'base64url') };
  }
}

export interface KeyCacheOptions {
  /** Most keys held (default 1000). */
  readonly max?: number;
  /** How long a key (or the fact that it is destroyed) is trusted without asking again (default 5 minutes). */
  readonly ttlMs?: number;
}

/**
 * Keys in memory, bounded in number and in time: a backlog of one referral's events costs one fetch, and a key
 * destroyed at the owner stops being used here within `ttlMs`. Failures are not cached (the next try asks again);
 * concurrent lookups of one referral share one fetch.
 */
export class CachedReferralKeySource implements ReferralKeySource {
  private readonly cache: LRUCache<string, { lookup: KeyLookup }>;

  constructor(source: ReferralKeySource, options: KeyCacheOptions = {}) {
    this.cache = new LRUCache({
      max: options.max ?? 1000,
      ttl: options.ttlMs ?? 5 * 60_000,
      fetchMethod: async (referralId) => ({ lookup: await source.keyFor(referralId) }),
    });
  }

  async keyFor(referralId: string): Promise<KeyLookup> {
    const entry = await this.cache.fetch(referralId);
    if (!entry) throw new Error('no data key was fetched');
    return entry.lookup;
  }
}

export type Opened<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: 'key-destroyed' };

/**
 * Opens sealed fields of consumed events: fetches the referral's key (through the cache) and opens the field where
 * it belongs. A destroyed key is an outcome the consumer handles deliberately (it skips, with its reason); a block
 * that does not open is a PermanentError (dead-lettered); a key that cannot be fetched is retried by the inbox.
 */
export class SealedFieldOpener {
  constructor(private readonly keys: ReferralKeySource) {}

  async open<S extends z.ZodType>(context: SealedFieldContext, sealed: unknown, schema: S): Promise<Opened<z.output<S>>> {
    const lookup = await this.keys.keyFor(context.referralId);
    if (lookup === 'destroyed') return { ok: false, reason: 'key-destroyed' };
    return { ok: true, value: openField(lookup, context, sealed, schema) };
  }
}
