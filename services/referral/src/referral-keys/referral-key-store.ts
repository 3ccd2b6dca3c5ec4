import { createCipheriv, createDecipheriv, createHash, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { DataKey } from '@sonet/messaging';
import { nativeQuery } from '@sonet/service-kit';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The table (Migration20261201130000_referral_data_key). */
export const REFERRAL_DATA_KEY_SCHEMA_V1 = `
  create table referral_data_key (
    referral_id uuid primary key,
    kid varchar(64) not null,
    wrapped bytea,
    kek_id char(16) not null,
    created_at timestamptz not null default now(),
    destroyed_at timestamptz,
    destroyed_basis text,
    destroyed_reference varchar(100),
    check ((wrapped is null) = (destroyed_at is not null))
  );
`;

interface Row {
  kid: string;
  wrapped: Buffer | null;
  kek_id: string;
}

export type StoredKey = DataKey | 'destroyed' | undefined;

/**
 * The referrals' data keys (ADR 14): 32 random bytes per referral, stored wrapped (AES-256-GCM) under the key-encryption
 * key from configuration, bound to their referral and id. Destroying a key removes its wrapped bytes for good: what
 * was sealed under it (events in Kafka, their copies in the audit log) can no longer be read by anyone.
 */
export class ReferralKeyStore {
  private readonly kekId: string;
  /** Imported once: a cipher made from the raw bytes would import them again for every key wrapped or unwrapped. */
  private readonly kek: KeyObject;

  constructor(kek: Buffer) {
    if (kek.length !== 32) throw new Error('the key-encryption key is 32 bytes');
    this.kekId = createHash('sha256').update(kek).digest('hex').slice(0, 16);
    this.kek = createSecretKey(kek);
  }

  /** Creates the referral's key in the caller's transaction (the referral row is written in the same one). */
  async create(em: EntityManager, referralId: string): Promise<DataKey> {
    const key: DataKey = { kid: randomBytes(16).toString('base64url'), key: randomBytes(32) };
    const inserted = await nativeQuery<{ kid: string }>(
      em,
      `insert into referral_data_key (referral_id, kid, wrapped, kek_id) values ($1, $2, $3, $4) on conflict (referral_id) do nothing returning kid`,
      [referralId, key.kid, this.wrap(referralId, key), this.kekId],
    );
    if (inserted.length === 1) return key;
    // The referral had a key already (a retried request): that one stands.
    const stored = await this.keyFor(em, referralId);
    if (!stored || stored === 'destroyed') throw new Error(`the data key of referral ${referralId} was destroyed`);
    return stored;
  }

  /** Removes the key of a referral taken back before anything was sealed with it (its workflow could not start). */
  async discard(em: EntityManager, referralId: string): Promise<void> {
    await nativeQuery(em, `delete from referral_data_key where referral_id = $1`, [referralId]);
  }

  /** The referral's key, 'destroyed' after erasure, undefined when it never had one. */
  async keyFor(em: EntityManager, referralId: string): Promise<StoredKey> {
    const [row] = await nativeQuery<Row>(em, `select kid, wrapped, kek_id from referral_data_key where referral_id = $1`, [referralId]);
    if (!row) return undefined;
    if (!row.wrapped) return 'destroyed';
    if (row.kek_id !== this.kekId) throw new Error('the data key is wrapped under another key-encryption key');
    return { kid: row.kid, key: this.unwrap(referralId, row.kid, Buffer.from(row.wrapped)) };
  }

  /** The key to seal with: the referral's, created now for a referral recorded before keys existed. */
  async forSealing(em: EntityManager, referralId: string): Promise<DataKey | 'destroyed'> {
    return (await this.keyFor(em, referralId)) ?? this.create(em, referralId);
  }

  /** Destroys the key; the wrapped bytes are gone for good. Returns the key's id, or what stood in the way. */
  async destroy(
    em: EntityManager,
    referralId: string,
    basis: string,
    reference: string | undefined,
  ): Promise<{ kid: string } | 'already-destroyed' | 'no-key'> {
    const [row] = await nativeQuery<{ kid: string; wrapped: Buffer | null }>(
      em,
      `select kid, wrapped from referral_data_key where referral_id = $1 for update`,
      [referralId],
    );
    if (!row) return 'no-key';
    if (!row.wrapped) return 'already-destroyed';
    await nativeQuery(
      em,
      `update referral_data_key set wrapped = null, destroyed_at = now(), destroyed_basis = $2, destroyed_reference = $3 where referral_id = $1`,
      [referralId, basis, reference ?? null],
    );
    return { kid: row.kid };
  }

  private aad(referralId: string, kid: string): Buffer {
    return Buffer.from(`sonet.referral-data-key/1\n${referralId}\n${kid}`, 'utf8');
  }

  private wrap(referralId: string, key: DataKey): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.kek, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(this.aad(referralId, key.kid));
    return Buffer.concat([iv, cipher.update(key.key), cipher.final(), cipher.getAuthTag()]);
  }

  private unwrap(referralId: string, kid: string, wrapped: Buffer): Buffer {
    const decipher = createDecipheriv('aes-256-gcm', this.kek, wrapped.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(this.aad(referralId, kid));
    decipher.setAuthTag(wrapped.subarray(wrapped.length - TAG_BYTES));
    return Buffer.concat([decipher.update(wrapped.subarray(IV_BYTES, wrapped.length - TAG_BYTES)), decipher.final()]);
  }
}
