import { createHmac } from 'node:crypto';
import { isSealedField, normaliseNhsNumber } from '@sonet/contracts';

/** Keys whose values identify a patient wherever they appear. */
const IDENTIFIER_KEYS = new Set(['nhsNumber', 'patientNhsNumber']);
/** Inside a `patient` object every string is identifying except these. */
const PATIENT_NON_IDENTIFYING = new Set(['preferredChannel']);
export const PROTECTED_PREFIX = 'hmac-sha256:';

/**
 * Keyed digests of patient identifiers. An NHS number has about a billion valid values, so a plain hash of one
 * is reversed by trying them all; an HMAC under a key the audit service keeps is not, and the same number still
 * gives the same digest, which is what the patient query needs.
 */
export class PatientKeyer {
  constructor(private readonly secret: string) {
    if (secret.length < 32) throw new Error('the patient key secret needs at least 32 characters');
  }

  /** The lookup key of an NHS number (normalised first, so "943 476 5919" and "9434765919" match); null if it is not one. */
  patientKey(nhsNumber: string): string | null {
    const n = normaliseNhsNumber(nhsNumber);
    return n === null ? null : this.hmac(`nhs:${n}`);
  }

  /** The keyed digest that replaces any other identifying value. */
  digest(value: string): string {
    return this.hmac(`value:${value}`);
  }

  private hmac(text: string): string {
    return createHmac('sha256', this.secret).update(text, 'utf8').digest('hex');
  }
}

export interface ProtectedData {
  /** The data with every patient identifier replaced by `hmac-sha256:<hex>`. */
  readonly data: unknown;
  /** JSON paths (dot-separated) of the values replaced, in document order. */
  readonly paths: readonly string[];
  /** The lookup key of the first NHS number met, if any. */
  readonly patientKey: string | null;
}

/**
 * Replaces patient identifiers in event data before it enters the log: NHS numbers anywhere (by key), and every
 * string inside a `patient` object but its preferred channel (name, email, phone, ...). Sealed blocks and everything
 * else are kept as sent. The log then holds no patient identifier in clear, only keyed digests the patient query can match.
 */
export function protectIdentifiers(data: unknown, keyer: PatientKeyer): ProtectedData {
  const paths: string[] = [];
  let patientKey: string | null = null;
  const walk = (value: unknown, path: string, inPatient: boolean, key: string | null): unknown => {
    if (typeof value === 'string') {
      if (key !== null && IDENTIFIER_KEYS.has(key)) {
        const pk = keyer.patientKey(value);
        patientKey ??= pk;
        paths.push(path);
        return `${PROTECTED_PREFIX}${pk ?? keyer.digest(value)}`;
      }
      if (inPatient && !(key !== null && PATIENT_NON_IDENTIFYING.has(key))) {
        paths.push(path);
        return `${PROTECTED_PREFIX}${keyer.digest(value)}`;
      }
      return value;
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${path}.${i}`, inPatient, key));
    // A sealed block holds nothing in clear (ADR 14): kept as sent, so erasing its key leaves it unreadable here too.
    if (isSealedField(value)) return value;
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = walk(v, path ? `${path}.${k}` : k, inPatient || k === 'patient', k);
      return out;
    }
    return value;
  };
  const protectedData = walk(data, '', false, null);
  return { data: protectedData, paths, patientKey };
}
