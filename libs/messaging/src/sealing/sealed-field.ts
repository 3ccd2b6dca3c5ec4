import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import type { z } from 'zod';
import { SEALED_FIELD_VERSION, sealedFieldAad, sealedFieldSchema, type SealedField, type SealedFieldContext } from '@sonet/contracts';
import { PermanentError } from '../inbox/inbox-pipeline';

/**
 * A referral's data key: 32 random bytes and their id. Held by the referral service; others fetch it (ADR 14). The
 * bytes are never changed in place: sealing imports them once per Buffer.
 */
export interface DataKey {
  readonly kid: string;
  readonly key: Buffer;
}

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A sealed field that cannot be opened (wrong key, moved to another referral/event/field, altered, or not its schema). */
export class SealedFieldError extends PermanentError {
  constructor(message: string) {
    super(message);
    this.name = 'SealedFieldError';
  }
}

/**
 * Each key's bytes imported once: a cipher made from raw bytes imports them again every time, which costs three times
 * the encryption of a field (an event seals several). Held only while the key's Buffer is.
 */
const imported = new WeakMap<Buffer, KeyObject>();

const secretOf = (key: DataKey): KeyObject => {
  if (key.key.length !== 32) throw new Error('a data key is 32 bytes (AES-256)');
  let secret = imported.get(key.key);
  if (!secret) {
    secret = createSecretKey(key.key);
    imported.set(key.key, secret);
  }
  return secret;
};

/** Seals any JSON value where `context` says it belongs: only that referral's key, event type and field open it. */
export function sealField(key: DataKey, context: SealedFieldContext, value: unknown): SealedField {
  const secret = secretOf(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, secret, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(sealedFieldAad(context), 'utf8'));
  const ct = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return { v: SEALED_FIELD_VERSION, kid: key.kid, iv: iv.toString('base64url'), ct: ct.toString('base64url') };
}

/**
 * Opens a sealed field with its referral's key and validates the plaintext with `schema` (any zod schema: the
 * library knows nothing of what is sealed). Errors say what failed, never what the block holds.
 */
export function openField<S extends z.ZodType>(key: DataKey, context: SealedFieldContext, sealed: unknown, schema: S): z.output<S> {
  const secret = secretOf(key);
  const block = sealedFieldSchema.safeParse(sealed);
  if (!block.success) throw new SealedFieldError(`${context.field} is not a sealed field of version ${SEALED_FIELD_VERSION}`);
  if (block.data.kid !== key.kid) throw new SealedFieldError(`${context.field} is sealed under another key than the referral's`);
  const bytes = Buffer.from(block.data.ct, 'base64url');
  let text: string;
  try {
    const decipher = createDecipheriv(ALGORITHM, secret, Buffer.from(block.data.iv, 'base64url'), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(sealedFieldAad(context), 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    text = Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new SealedFieldError(`${context.field} does not open: altered, or sealed for another referral, event or field`);
  }
  const parsed = schema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new SealedFieldError(`${context.field} opened but does not match its schema`);
  return parsed.data;
}
