import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { sha256 } from './chain';

/** A signed statement that the chain `chain` had `head` as the hash of entry `seq`, at `signedAt`. */
export interface Checkpoint {
  readonly chain: string;
  /** Decimal string (64-bit). */
  readonly seq: string;
  /** hash(entry seq), hex. */
  readonly head: string;
  /** ISO-8601 UTC. */
  readonly signedAt: string;
  readonly keyId: string;
  /** Ed25519 signature over checkpointMessage(...), base64. */
  readonly signature: string;
  /** periodic (every N entries or M seconds), on-demand (before an export), retention-anchor (the last entry a retention run dropped). */
  readonly kind: CheckpointKind;
}

export type CheckpointKind = 'periodic' | 'on-demand' | 'retention-anchor';

const DOMAIN = 'sonet.audit.checkpoint/1';

/**
 * The signed bytes: a fixed domain string, then chain, sequence, head and time, newline-separated. Nothing else
 * signed with these keys starts with this domain, and no hash input of the chain is text, so a checkpoint
 * signature cannot be replayed as anything else.
 */
export const checkpointMessage = (c: Pick<Checkpoint, 'chain' | 'seq' | 'head' | 'signedAt'>): Buffer =>
  Buffer.from(`${DOMAIN}\n${c.chain}\n${c.seq}\n${c.head}\n${c.signedAt}\n`, 'utf8');

/** Key id: the first 16 hex digits of SHA-256 over the public key's SPKI DER. */
export const keyIdOf = (publicKey: KeyObject): string =>
  sha256(publicKey.export({ format: 'der', type: 'spki' }))
    .toString('hex')
    .slice(0, 16);

export class CheckpointSigner {
  readonly publicKey: KeyObject;
  readonly keyId: string;

  constructor(private readonly privateKey: KeyObject) {
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('checkpoint signing key must be Ed25519');
    this.publicKey = createPublicKey(privateKey);
    this.keyId = keyIdOf(this.publicKey);
  }

  static fromPemFile(file: string): CheckpointSigner {
    return new CheckpointSigner(createPrivateKey(readFileSync(file, 'utf8')));
  }

  sign(chain: string, seq: string, head: Buffer, kind: CheckpointKind, signedAt = new Date()): Checkpoint {
    const body = { chain, seq, head: head.toString('hex'), signedAt: signedAt.toISOString() };
    return { ...body, kind, ...this.signStatement(checkpointMessage(body)) };
  }

  /**
   * Signs another statement of the audit service (an evidence pack's seal). The message must begin with a domain
   * string of its own, as checkpointMessage does, so that no signature can be taken for a checkpoint or back.
   */
  signStatement(message: Buffer): { keyId: string; signature: string } {
    return { keyId: this.keyId, signature: sign(null, message, this.privateKey).toString('base64') };
  }

  publicKeyPem(): string {
    return this.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  }
}

/** Public keys trusted for checkpoints, by key id (the current one and any retired ones). */
export class CheckpointKeyring {
  private readonly keys = new Map<string, KeyObject>();

  constructor(publicKeys: readonly KeyObject[]) {
    for (const k of publicKeys) {
      if (k.asymmetricKeyType !== 'ed25519') throw new Error('checkpoint keys are Ed25519');
      this.keys.set(keyIdOf(k), k);
    }
  }

  /** Every PEM public (or private: its public half is taken) key in the text. */
  static fromPem(text: string): CheckpointKeyring {
    const blocks = text.match(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g) ?? [];
    return new CheckpointKeyring(blocks.map((b) => (b.includes('PRIVATE') ? createPublicKey(createPrivateKey(b)) : createPublicKey(b))));
  }

  get size(): number {
    return this.keys.size;
  }

  /** The keys themselves (KeyObjects can be posted to a worker thread). */
  get publicKeys(): KeyObject[] {
    return [...this.keys.values()];
  }

  /** 'valid', or why not. */
  check(c: Checkpoint): 'valid' | 'unknown-key' | 'bad-signature' {
    return this.checkStatement(checkpointMessage(c), c);
  }

  /** 'valid', or why not, for a statement signed with signStatement. */
  checkStatement(
    message: Buffer,
    signed: { readonly keyId: string; readonly signature: string },
  ): 'valid' | 'unknown-key' | 'bad-signature' {
    const key = this.keys.get(signed.keyId);
    if (!key) return 'unknown-key';
    let ok = false;
    try {
      ok = verify(null, message, key, Buffer.from(signed.signature, 'base64'));
    } catch {
      ok = false;
    }
    return ok ? 'valid' : 'bad-signature';
  }
}

/**
 * Creates an Ed25519 key (PKCS#8 PEM, mode 0600) where there is none; used for local development and tests only.
 * Two processes starting at once (the service and a CLI) must end up with the same key: the key is written whole to
 * a file of this process's own, then linked into place, which fails if another process got there first (its key
 * stands). Overwriting instead would leave a running service signing with a key the file no longer holds.
 */
export function ensureSigningKeyFile(file: string): void {
  if (existsSync(file)) return;
  mkdirSync(dirname(file), { recursive: true });
  const { privateKey } = generateKeyPairSync('ed25519');
  const draft = `${file}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(draft, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
  try {
    chmodSync(draft, 0o600);
    linkSync(draft, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    rmSync(draft, { force: true });
  }
}
