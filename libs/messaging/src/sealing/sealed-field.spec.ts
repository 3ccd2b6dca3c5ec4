import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { patientDetailsSchema, sealedFieldSchema, type SealedFieldContext } from '@sonet/contracts';
import { openField, sealField, SealedFieldError, type DataKey } from './sealed-field';
import { PermanentError } from '../inbox/inbox-pipeline';

const key = (): DataKey => ({ kid: randomBytes(16).toString('base64url'), key: randomBytes(32) });
const here: SealedFieldContext = {
  referralId: '5b8e7a57-6d3c-4f1e-8a55-2a1f7c3d9e10',
  eventType: 'referral.requested.v2',
  field: 'patient',
};
const patient = {
  nhsNumber: '9434765919',
  name: 'Alex Example',
  email: 'alex@example.test',
  phone: '07700 900123',
  preferredChannel: 'email' as const,
};

describe('a sealed field (AES-256-GCM under a referral data key)', () => {
  it('opens to the value it sealed, validated by the schema the caller gives', () => {
    const k = key();
    expect(openField(k, here, sealField(k, here, patient), patientDetailsSchema)).toEqual(patient);
  });

  it('has the versioned, base64url shape of the contracts, and shows nothing of its plaintext', () => {
    const k = key();
    const block = sealField(k, here, patient);
    expect(sealedFieldSchema.parse(block)).toEqual(block);
    expect(block).toMatchObject({ v: 1, kid: k.kid });
    const text = JSON.stringify(block);
    for (const v of [patient.nhsNumber, patient.name, patient.email, 'Alex', 'example.test']) expect(text).not.toContain(v);
  });

  it('uses a fresh IV each time: the same value seals differently', () => {
    const k = key();
    const a = sealField(k, here, patient);
    const b = sealField(k, here, patient);
    expect(a.iv).not.toBe(b.iv);
    expect(a.ct).not.toBe(b.ct);
  });

  it('seals any object its schema describes (fields the library does not know of travel too)', () => {
    const k = key();
    const wider = z.object({ nhsNumber: z.string(), postalAddress: z.object({ line1: z.string(), postcode: z.string() }) });
    const value = { nhsNumber: '9434765919', postalAddress: { line1: '1 High Street', postcode: 'LS1 4AP' } };
    expect(openField(k, here, sealField(k, here, value), wider)).toEqual(value);
  });

  describe('does not open, with a permanent error that quotes nothing of the value,', () => {
    const k = key();
    const block = sealField(k, here, patient);
    const refuses = (run: () => unknown) => {
      let error: unknown;
      try {
        run();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SealedFieldError);
      expect(error).toBeInstanceOf(PermanentError);
      expect((error as Error).message).not.toContain('Alex');
      expect((error as Error).message).not.toContain('9434765919');
    };

    it('when moved into another referral’s message', () => {
      refuses(() => openField(k, { ...here, referralId: '0f3c9a51-93d6-4c39-9d7e-0b0a0ab1c001' }, block, patientDetailsSchema));
    });

    it('when moved into another event type or another field', () => {
      refuses(() => openField(k, { ...here, eventType: 'records.transfer-requested.v2' }, block, patientDetailsSchema));
      refuses(() => openField(k, { ...here, field: 'other' }, block, patientDetailsSchema));
    });

    it('when a bit of the ciphertext or the IV is flipped', () => {
      const ct = Buffer.from(block.ct, 'base64url');
      ct[0]! ^= 1;
      refuses(() => openField(k, here, { ...block, ct: ct.toString('base64url') }, patientDetailsSchema));
      const iv = Buffer.from(block.iv, 'base64url');
      iv[0]! ^= 1;
      refuses(() => openField(k, here, { ...block, iv: iv.toString('base64url') }, patientDetailsSchema));
    });

    it('under another key, or a key of another id', () => {
      refuses(() => openField({ ...key(), kid: k.kid }, here, block, patientDetailsSchema));
      refuses(() => openField(key(), here, block, patientDetailsSchema));
    });

    it('when it is not a sealed field of a known version, or its plaintext is not of the schema', () => {
      refuses(() => openField(k, here, { ...block, v: 2 }, patientDetailsSchema));
      refuses(() => openField(k, here, patient, patientDetailsSchema));
      refuses(() => openField(k, here, sealField(k, here, { nhsNumber: 'not one' }), patientDetailsSchema));
    });
  });
});
