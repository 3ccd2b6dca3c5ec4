import { existsSync, readFileSync } from 'node:fs';
import type { AuditConfig } from '../config';
import { CheckpointKeyring, CheckpointSigner, ensureSigningKeyFile } from './checkpoint';
import { PatientKeyer } from './patient-identifiers';

/** The checkpoint signer from the configured key file; outside production a missing key is created. */
export function signerFrom(config: AuditConfig): CheckpointSigner {
  if (config.NODE_ENV !== 'production') ensureSigningKeyFile(config.AUDIT_CHECKPOINT_KEY_FILE);
  return CheckpointSigner.fromPemFile(config.AUDIT_CHECKPOINT_KEY_FILE);
}

/** The signer's public key plus any retired keys still trusted. */
export function keyringFrom(config: AuditConfig, signer?: CheckpointSigner): CheckpointKeyring {
  const pems = [signer?.publicKeyPem() ?? readFileSync(config.AUDIT_CHECKPOINT_KEY_FILE, 'utf8')];
  if (config.AUDIT_CHECKPOINT_TRUSTED_KEYS_FILE && existsSync(config.AUDIT_CHECKPOINT_TRUSTED_KEYS_FILE)) {
    pems.push(readFileSync(config.AUDIT_CHECKPOINT_TRUSTED_KEYS_FILE, 'utf8'));
  }
  return CheckpointKeyring.fromPem(pems.join('\n'));
}

export const keyerFrom = (config: AuditConfig): PatientKeyer => new PatientKeyer(config.AUDIT_PATIENT_KEY_SECRET);
