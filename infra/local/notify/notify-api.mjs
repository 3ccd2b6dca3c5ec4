// The checks GOV.UK Notify's API documents, as pure functions the local server (server.mjs) runs on each request:
// the API key and its JWT, the template and its personalisation, the recipient, and the per-key limits.
// Error bodies are Notify's: { status_code, errors: [{ error, message }] }.
import { jwtVerify } from 'jose';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/** A Notify error answer. */
export class NotifyError extends Error {
  constructor(status, error, message) {
    super(message);
    this.status = status;
    this.error = error;
  }
  body() {
    return { status_code: this.status, errors: [{ error: this.error, message: this.message }] };
  }
}

/** A UUID as Notify writes them (ids of keys, services, templates). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `{name}-{serviceId}-{secret}`: the service id and the secret are the last two UUIDs (36 characters each). */
export function parseApiKey(key) {
  if (typeof key !== 'string' || key.length < 74) throw new Error('an API key is {name}-{serviceId}-{secret}');
  const secret = key.slice(-36);
  const serviceId = key.slice(-73, -37);
  const name = key.slice(0, -74);
  if (!UUID_PATTERN.test(secret) || !UUID_PATTERN.test(serviceId) || !name)
    throw new Error('an API key is {name}-{serviceId}-{secret} (two UUIDs)');
  return { name, serviceId, secret };
}

/**
 * Checks `Authorization: Bearer <jwt>`: HS256, signed with the secret of one of the service's keys, `iss` = the
 * service id, `iat` within 30 seconds of now. Returns the key that signed it.
 */
export async function authenticate(header, keys, nowSeconds = Math.floor(Date.now() / 1000)) {
  if (!header || !header.startsWith('Bearer ')) {
    throw new NotifyError(401, 'AuthError', 'Unauthorized: authentication token must be provided');
  }
  const token = header.slice('Bearer '.length).trim();
  let payload;
  let signer;
  for (const key of keys) {
    try {
      ({ payload } = await jwtVerify(token, new TextEncoder().encode(key.secret), {
        algorithms: ['HS256'],
        currentDate: new Date(nowSeconds * 1000),
      }));
      signer = key;
      break;
    } catch {
      // try the next key of the service
    }
  }
  if (!signer) throw new NotifyError(403, 'AuthError', 'Invalid token: signature, api token not found');
  if (payload.iss !== signer.serviceId) throw new NotifyError(403, 'AuthError', 'Invalid token: service not found');
  if (typeof payload.iat !== 'number' || Math.abs(nowSeconds - payload.iat) > 30) {
    throw new NotifyError(403, 'AuthError', 'Error: Your system clock must be accurate to within 30 seconds');
  }
  return signer;
}

/** Ofcom's drama range: Notify's simulator numbers (07700900001 delivered, …002 permanent, …003 temporary failure). */
const DRAMA_MOBILE = /^\+447700900\d{3}$/;

/** A UK mobile as Notify takes it (any common writing), normalised to E.164; anything else is Notify's 400. */
export function validatePhone(input) {
  const parsed = typeof input === 'string' ? parsePhoneNumberFromString(input, 'GB') : undefined;
  const e164 = parsed?.number;
  if (e164 && (DRAMA_MOBILE.test(e164) || (parsed.isValid() && parsed.getType() === 'MOBILE' && e164.startsWith('+447')))) return e164;
  throw new NotifyError(400, 'ValidationError', 'phone_number Not a UK mobile number');
}

export function validateEmail(input) {
  if (typeof input === 'string' && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(input) && input.length <= 320) return input;
  throw new NotifyError(400, 'ValidationError', 'email_address Not a valid email address');
}

const POSTCODE = /^(GIR ?0AA|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})$/i;

/** Letters: address_line_1 … address_line_7, at least 3 lines, the last a real UK postcode. */
export function validateAddress(personalisation) {
  const lines = [];
  for (let i = 1; i <= 7; i++) {
    const v = personalisation[`address_line_${i}`];
    if (typeof v === 'string' && v.trim()) lines.push(v.trim());
  }
  if (lines.length < 3) throw new NotifyError(400, 'ValidationError', 'Address must be at least 3 lines');
  if (!POSTCODE.test(lines[lines.length - 1]))
    throw new NotifyError(400, 'ValidationError', 'Last line of address must be a real UK postcode');
  return lines;
}

/** `((name))` placeholders of a template's subject and body. */
export const placeholdersOf = (template) => [
  ...new Set([...`${template.subject ?? ''} ${template.body}`.matchAll(/\(\(([^)]+)\)\)/g)].map((m) => m[1].trim())),
];

/** Replaces the placeholders; a missing one is Notify's 400 naming it. */
export function render(template, personalisation) {
  const missing = placeholdersOf(template).filter((p) => personalisation?.[p] === undefined || personalisation[p] === null);
  if (missing.length) throw new NotifyError(400, 'BadRequestError', `Missing personalisation: ${missing.join(', ')}`);
  const fill = (text) => text.replace(/\(\(([^)]+)\)\)/g, (_m, p) => String(personalisation[p.trim()]));
  return { subject: template.subject === undefined ? null : fill(template.subject), body: fill(template.body) };
}

/**
 * Per-key limits: `perMinute` messages in any 60 seconds (Notify's 3,000 by default) and `perDay` messages per
 * calendar day (UTC), each answered with Notify's 429 body.
 */
export class Limits {
  constructor({ perMinute, perDay, keyType = 'LIVE', windowSeconds = 60 }) {
    Object.assign(this, { perMinute, perDay, keyType, windowSeconds });
    this.recent = new Map();
    this.daily = new Map();
  }

  take(keyId, nowMs = Date.now()) {
    const window = (this.recent.get(keyId) ?? []).filter((t) => t > nowMs - this.windowSeconds * 1000);
    if (window.length >= this.perMinute) {
      this.recent.set(keyId, window);
      throw new NotifyError(
        429,
        'RateLimitError',
        `Exceeded rate limit for key type ${this.keyType} of ${this.perMinute} requests per ${this.windowSeconds} seconds`,
      );
    }
    const day = new Date(nowMs).toISOString().slice(0, 10);
    const used = this.daily.get(day) ?? 0;
    if (used >= this.perDay) throw new NotifyError(429, 'TooManyRequestsError', `Exceeded send limits (${this.perDay}) for today`);
    window.push(nowMs);
    this.recent.set(keyId, window);
    this.daily.set(day, used + 1);
  }
}

/** Notify's simulated outcomes for the documented test recipients; everyone else is delivered. */
export function outcomeFor(type, to) {
  const perm = ['+447700900002', 'perm-fail@simulator.notify'];
  const temp = ['+447700900003', 'temp-fail@simulator.notify'];
  if (perm.includes(to)) return 'permanent-failure';
  if (temp.includes(to)) return 'temporary-failure';
  // A letter's end state at Notify is `received` (printed and handed to the post).
  return type === 'letter' ? 'received' : 'delivered';
}
