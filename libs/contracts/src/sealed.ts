import { z } from 'zod';

/**
 * A sealed field: a value of an event encrypted under its referral's data key (ADR 14), so identifiers never
 * travel in clear on Kafka. AES-256-GCM with a random 96-bit IV; the additional authenticated data binds the
 * ciphertext to its referral, event type and field (`sealedFieldAad`), so a block cannot be moved into another
 * referral's message, another event or another field. The plaintext is the JSON of a value its own schema
 * validates once opened. Destroying the referral's key (erasure) leaves every copy unreadable: crypto-shredding.
 */
export const SEALED_FIELD_VERSION = 1;

const base64url = (what: string) => z.string().regex(/^[A-Za-z0-9_-]+$/, `${what} must be base64url without padding`);

export const sealedFieldSchema = z
  .object({
    v: z.literal(SEALED_FIELD_VERSION).describe('format version'),
    kid: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .describe("the data key's id (the owning service serves the key by referral id)"),
    iv: base64url('iv').length(16).describe('the 96-bit AES-GCM nonce, base64url'),
    ct: base64url('ct').min(24).max(65_536).describe('ciphertext followed by the 128-bit GCM tag, base64url'),
  })
  .strict();
export type SealedField = z.infer<typeof sealedFieldSchema>;

/** The field events seal a patient's details in (`referral.requested.v2`, `records.transfer-requested.v2`). */
export const SEALED_PATIENT_FIELD = 'patient';

/** Where a sealed value belongs: it opens only there. */
export interface SealedFieldContext {
  readonly referralId: string;
  /** The event type with its version, e.g. `referral.requested.v2`. */
  readonly eventType: string;
  /** The field's name in the event's data, e.g. `patient`. */
  readonly field: string;
}

/** The additional authenticated data of a sealed field: the format, then the referral, event type and field, one per line. */
export const sealedFieldAad = (c: SealedFieldContext): string =>
  `sonet.sealed-field/${SEALED_FIELD_VERSION}\n${c.referralId}\n${c.eventType}\n${c.field}`;

/** A sealed field whose plaintext is `plaintext` (documented, not checked: only the key's holders can open it). */
export const sealed = (plaintext: string) =>
  sealedFieldSchema.describe(`sealed (AES-256-GCM under the referral's data key, ADR 14); opens to ${plaintext}`);

/** Whether a value has the shape of a sealed field (audit keeps such blocks as they are: they hold no identifier in clear). */
export const isSealedField = (value: unknown): value is SealedField => sealedFieldSchema.safeParse(value).success;
