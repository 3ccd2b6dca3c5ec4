import type { ContactChannel, PatientDetails, PostalAddress } from '@sonet/contracts';
import type { ContactDetails } from './channel';

/** How the patient of one referral can be reached, most preferred channel first. Never logged, never served. */
export interface PatientContact {
  readonly name: string;
  readonly email?: string | undefined;
  /** E.164 UK mobile; for events written before `mobile` existed, the free-form `phone` (Notify checks it). */
  readonly mobile?: string | undefined;
  readonly address?: PostalAddress | undefined;
  /** The channels the patient agreed to, most preferred first; never empty. */
  readonly preferences: readonly ContactChannel[];
}

/**
 * The one place this service reads a patient's contact details out of an event. Events written before issue 11
 * carry only `preferredChannel` and `phone`; both still work. When the patient block arrives sealed, its
 * unsealing belongs here, so nothing else in the service ever reads the block itself.
 */
export function patientContactOf(patient: PatientDetails): PatientContact {
  return {
    name: patient.name,
    email: patient.email,
    mobile: patient.mobile ?? patient.phone,
    address: patient.address,
    preferences: patient.contactPreferences?.length ? patient.contactPreferences : [patient.preferredChannel],
  };
}

/** The lines a letter is addressed with: the name, the address lines, the postcode last (as Notify wants). */
export const letterAddressLines = (name: string, address: PostalAddress): string[] => [name, ...address.lines, address.postcode];

/** The patient's route: their channels in their order, with where to send on each. */
export const patientContactDetails = (p: PatientContact): ContactDetails => ({
  preferences: p.preferences,
  email: p.email,
  mobile: p.mobile,
  letterLines: p.address ? letterAddressLines(p.name, p.address) : undefined,
});

/** GP practices and clinical teams are told by email, always (no address: the notification is `no-address`). */
export const byEmail = (email: string | undefined): ContactDetails => ({ preferences: ['email'], email });
