import { z } from 'zod';
import type { PalsContact } from '@sonet/contracts';

/**
 * Rule 11: how patients reach the Patient Advice and Liaison Service. One set of `PALS_*` variables for every
 * service that names PALS: referral puts the contact in the events that end a path, notification prints it (with
 * the opening hours) in patient messages whose event carries none. Extend a service's schema with its `shape`.
 * The defaults are fictional demo values.
 */
export const palsConfigSchema = z.object({
  PALS_NAME: z.string().min(1).default('Patient Advice and Liaison Service (PALS)'),
  PALS_PHONE: z.string().min(3).default('01632 960 000'),
  PALS_EMAIL: z.email().default('pals@second-opinion.nhs.invalid'),
  PALS_URL: z.url().default('https://second-opinion.nhs.invalid/pals'),
  /** Printed beside the phone number in patient messages; events do not carry it. */
  PALS_OPENING_HOURS: z.string().min(1).default('Monday to Friday, 9am to 5pm'),
});

export type PalsConfig = z.output<typeof palsConfigSchema>;

/** The configured PALS contact as events carry it (`palsContactSchema` of @sonet/contracts). */
export const palsContactOf = (config: PalsConfig): PalsContact => ({
  name: config.PALS_NAME,
  phone: config.PALS_PHONE,
  email: config.PALS_EMAIL,
  url: config.PALS_URL,
});
