import { z } from 'zod';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { contactChannelSchema, patientDetailsSchema, ukPostcodeSchema } from '@sonet/contracts';

/**
 * Ofcom reserves 07700 900000–900999 for drama; GOV.UK Notify's simulator uses numbers from it (07700900001 delivered,
 * …002 permanent failure, …003 temporary failure), so the local demo and tests can use them. libphonenumber calls
 * them invalid, rightly for real patients: they are accepted as the one exception, and never reach a real phone.
 */
const OFCOM_DRAMA_MOBILE = /^\+447700900\d{3}$/;

/** A UK mobile number in any common writing (07…, +44 7…, spaces, dashes), or undefined when it is not one. */
export function normaliseUkMobile(input: string): string | undefined {
  const parsed = parsePhoneNumberFromString(input, 'GB');
  if (!parsed) return undefined;
  const e164 = parsed.number;
  if (OFCOM_DRAMA_MOBILE.test(e164)) return e164;
  // +44 7… is shared by Guernsey, Jersey and the Isle of Man, whose mobiles Notify also sends to as UK numbers.
  return parsed.isValid() && parsed.getType() === 'MOBILE' && e164.startsWith('+447') ? e164 : undefined;
}

/** Upper case, inner spaces collapsed, the inward code split off: `ls14ap` → `LS1 4AP` (the shape is checked after). */
export const normalisePostcode = (input: string): string => {
  const compact = input.replace(/\s+/g, '').toUpperCase();
  return compact.length > 3 ? `${compact.slice(0, -3)} ${compact.slice(-3)}` : compact;
};

const mobileInputSchema = z
  .string()
  .max(32)
  .transform((v, ctx) => {
    const e164 = normaliseUkMobile(v);
    if (!e164) {
      ctx.addIssue({ code: 'custom', message: 'not a UK mobile number' });
      return z.NEVER;
    }
    return e164;
  });

const addressInputSchema = z
  .object({
    lines: z.array(z.string().trim().min(1).max(100)).min(2).max(5),
    postcode: z.string().max(16).transform(normalisePostcode).pipe(ukPostcodeSchema),
  })
  .strict();

/** How a channel is reached, for the check that the patient's first choice can be used. */
const CHANNEL_FIELD = { email: 'email', sms: 'mobile', letter: 'address' } as const;

/**
 * The patient block of a request: the event's fields, with the mobile normalised to E.164 and the postcode to its
 * printed shape. `contactPreferences` (most preferred first) or the older `preferredChannel`: either is enough;
 * the event always carries `preferredChannel` (the first preference) so consumers written before stay correct.
 */
export const requestPatientSchema = patientDetailsSchema
  .extend({
    preferredChannel: contactChannelSchema.optional(),
    mobile: mobileInputSchema.optional(),
    address: addressInputSchema.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const first = p.contactPreferences?.[0] ?? p.preferredChannel;
    if (!first) {
      ctx.addIssue({ code: 'custom', path: ['contactPreferences'], message: 'give contactPreferences (or preferredChannel)' });
      return;
    }
    if (p.preferredChannel && p.contactPreferences && p.preferredChannel !== first) {
      ctx.addIssue({ code: 'custom', path: ['preferredChannel'], message: 'must be the first of contactPreferences' });
    }
    const field = CHANNEL_FIELD[first];
    const reachable = first === 'sms' ? Boolean(p.mobile ?? p.phone) : Boolean(p[field]);
    if (!reachable) ctx.addIssue({ code: 'custom', path: [field], message: `required when the first preference is ${first}` });
  })
  .transform(({ preferredChannel, ...p }) => ({
    ...p,
    preferredChannel: (p.contactPreferences?.[0] ?? preferredChannel) as z.infer<typeof contactChannelSchema>,
  }));

export type RequestPatient = z.output<typeof requestPatientSchema>;
