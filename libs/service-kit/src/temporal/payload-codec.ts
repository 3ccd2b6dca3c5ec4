import { createCipheriv, createDecipheriv, createHash, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Payload, PayloadCodec } from '@temporalio/common';

const ENCODING = 'binary/encrypted';
const METADATA_ENCODING_KEY = 'encoding';
const KEY_ID = 'encryption-key-id';

/**
 * Encrypts every Temporal payload (workflow inputs, update arguments and results, activity arguments) with
 * AES-256-GCM before it leaves the process, so Temporal's history and UI hold no readable clinical free text.
 * Ids stay as they are in the visible parts of Temporal (workflow ids, search attributes): they carry no
 * patient data.
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly keyId: string;
  /** Imported once: a cipher made from the raw bytes would import them again for every payload. */
  private readonly key: KeyObject;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('the payload key must be 32 bytes (AES-256)');
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 16);
    this.key = createSecretKey(key);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', this.key, iv);
      const plain = Buffer.from(
        JSON.stringify({ metadata: encodeMap(p.metadata), data: p.data ? Buffer.from(p.data).toString('base64') : null }),
      );
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: Buffer.from(ENCODING),
          [KEY_ID]: Buffer.from(this.keyId),
        },
        data: Buffer.concat([iv, cipher.getAuthTag(), body]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (Buffer.from(p.metadata?.[METADATA_ENCODING_KEY] ?? []).toString() !== ENCODING) return p;
      const keyId = Buffer.from(p.metadata?.[KEY_ID] ?? []).toString();
      if (keyId !== this.keyId) throw new Error(`payload encrypted with another key (${keyId})`);
      const data = Buffer.from(p.data ?? []);
      const decipher = createDecipheriv('aes-256-gcm', this.key, data.subarray(0, 12));
      decipher.setAuthTag(data.subarray(12, 28));
      const plain = Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]);
      const inner = JSON.parse(plain.toString()) as { metadata: Record<string, string>; data: string | null };
      return {
        metadata: Object.fromEntries(Object.entries(inner.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
        ...(inner.data !== null ? { data: Buffer.from(inner.data, 'base64') } : {}),
      };
    });
  }
}

const encodeMap = (m: Payload['metadata']): Record<string, string> =>
  Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]));

/**
 * A 256-bit secret key from configuration: `value` (base64) when set; required in production; in development a
 * key file created once (git-ignored, mode 600), so a restarted process still reads what it wrote. The key is
 * never logged and errors name the variable, never its value.
 */
export function loadSecretKey(o: { name: string; value?: string | undefined; file: string; nodeEnv: string }): Buffer {
  if (o.value) {
    const key = Buffer.from(o.value, 'base64');
    if (key.length !== 32) throw new Error(`${o.name} must be 32 bytes, base64`);
    return key;
  }
  if (o.nodeEnv === 'production') throw new Error(`${o.name} is required in production`);
  if (!existsSync(o.file)) {
    mkdirSync(dirname(o.file), { recursive: true });
    writeFileSync(o.file, randomBytes(32).toString('base64'));
    chmodSync(o.file, 0o600);
  }
  return Buffer.from(readFileSync(o.file, 'utf8').trim(), 'base64');
}

/** The payload key: TEMPORAL_PAYLOAD_KEY (base64) in production; in development TEMPORAL_PAYLOAD_KEY_FILE (see loadSecretKey). */
export function loadPayloadKey(config: {
  NODE_ENV: string;
  TEMPORAL_PAYLOAD_KEY?: string | undefined;
  TEMPORAL_PAYLOAD_KEY_FILE: string;
}): Buffer {
  return loadSecretKey({
    name: 'TEMPORAL_PAYLOAD_KEY',
    value: config.TEMPORAL_PAYLOAD_KEY,
    file: config.TEMPORAL_PAYLOAD_KEY_FILE,
    nodeEnv: config.NODE_ENV,
  });
}
