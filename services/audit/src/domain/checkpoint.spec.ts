import { generateKeyPairSync } from 'node:crypto';
import { checkpointMessage, CheckpointKeyring, CheckpointSigner, ensureSigningKeyFile, keyIdOf, type Checkpoint } from './checkpoint';

const newSigner = () => new CheckpointSigner(generateKeyPairSync('ed25519').privateKey);
const head = Buffer.alloc(32, 7);

describe('signed checkpoints', () => {
  const signer = newSigner();
  const keyring = CheckpointKeyring.fromPem(signer.publicKeyPem());
  const cp = signer.sign('sonet-audit', '1000', head, 'periodic', new Date('2026-11-25T10:00:00.000Z'));

  it('signs (chain, sequence, head hash, time) with Ed25519 and names the key', () => {
    expect(cp).toMatchObject({
      chain: 'sonet-audit',
      seq: '1000',
      head: head.toString('hex'),
      signedAt: '2026-11-25T10:00:00.000Z',
      kind: 'periodic',
    });
    expect(cp.keyId).toBe(keyIdOf(signer.publicKey));
    expect(Buffer.from(cp.signature, 'base64')).toHaveLength(64);
    expect(keyring.check(cp)).toBe('valid');
  });

  it('signs a message that starts with its own domain, unlike any hash input of the chain', () => {
    expect(checkpointMessage(cp).toString('utf8')).toBe(
      `sonet.audit.checkpoint/1\nsonet-audit\n1000\n${head.toString('hex')}\n2026-11-25T10:00:00.000Z\n`,
    );
  });

  it.each<[string, Partial<Checkpoint>]>([
    ['another head', { head: Buffer.alloc(32, 8).toString('hex') }],
    ['another sequence number', { seq: '1001' }],
    ['another chain', { chain: 'other' }],
    ['another time', { signedAt: '2026-11-25T10:00:00.001Z' }],
  ])('refuses the signature for %s', (_what, change) => {
    expect(keyring.check({ ...cp, ...change })).toBe('bad-signature');
  });

  it('refuses a checkpoint signed by a key it does not trust, even with a matching key id', () => {
    const mallory = newSigner();
    const forged = mallory.sign('sonet-audit', '1000', head, 'periodic');
    expect(keyring.check(forged)).toBe('unknown-key');
    expect(keyring.check({ ...forged, keyId: cp.keyId })).toBe('bad-signature');
  });

  it('trusts retired keys it is given beside the current one', () => {
    const old = newSigner();
    const both = CheckpointKeyring.fromPem(`${signer.publicKeyPem()}\n${old.publicKeyPem()}`);
    expect(both.size).toBe(2);
    expect(both.check(old.sign('sonet-audit', '5', head, 'periodic'))).toBe('valid');
  });

  it('refuses keys that are not Ed25519', () => {
    expect(() => new CheckpointSigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)).toThrow(/Ed25519/);
  });
});

describe('the local signing key file', () => {
  // The module object itself, so a spy on it is what checkpoint.ts calls.
  const fs = require('node:fs') as typeof import('node:fs');
  const { mkdtempSync, readFileSync, readdirSync, writeFileSync } = fs;
  const { join } = require('node:path') as typeof import('node:path');
  const { tmpdir } = require('node:os') as typeof import('node:os');

  afterEach(() => jest.restoreAllMocks());

  it('is created once, whole, with mode 0600, and kept on the next call', () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-key-'));
    const file = join(dir, 'keys', 'signing.pem');
    ensureSigningKeyFile(file);
    const first = readFileSync(file, 'utf8');
    expect(CheckpointSigner.fromPemFile(file).publicKeyPem()).toContain('PUBLIC KEY');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    ensureSigningKeyFile(file);
    expect(readFileSync(file, 'utf8')).toBe(first);
    expect(readdirSync(join(dir, 'keys'))).toEqual(['signing.pem']);
  });

  it('keeps the key of a process that created it first, after this one looked (no overwrite, no draft left)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-key-'));
    const file = join(dir, 'signing.pem');
    const theirs = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    // The other process writes its key between this one's existence check and its write.
    jest.spyOn(fs, 'existsSync').mockImplementationOnce(() => {
      writeFileSync(file, theirs, { mode: 0o600 });
      return false;
    });
    ensureSigningKeyFile(file);
    expect(readFileSync(file, 'utf8')).toBe(theirs);
    expect(readdirSync(dir)).toEqual(['signing.pem']);
  });
});
