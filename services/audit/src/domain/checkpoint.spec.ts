import { generateKeyPairSync } from 'node:crypto';
import { checkpointMessage, CheckpointKeyring, CheckpointSigner, keyIdOf, type Checkpoint } from './checkpoint';

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
