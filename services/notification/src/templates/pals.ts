import type { PalsContact as EventPalsContact } from '@sonet/contracts';

/**
 * How patients reach the Patient Advice and Liaison Service (DOMAIN rule 11): the contact an event carries
 * (declines, rejections, withdrawals, care retained), otherwise the one from configuration.
 */
export interface PalsContact extends Readonly<Pick<EventPalsContact, 'phone' | 'email' | 'url'>> {
  /** The service's own name, e.g. "PALS, General Hospital"; printed unless it is the generic one. */
  readonly name?: string | undefined;
  /** From configuration (PALS_OPENING_HOURS); events do not carry it. */
  readonly openingHours?: string | undefined;
}

const DEFAULT_LEAD = 'If you need any advice or support, you can contact the Patient Advice and Liaison Service (PALS):';

/** For messages that end a path on someone else's decision (decline, rejection, care retained): PALS hears concerns. */
export const DECISION_LEAD =
  'If you are unhappy with this decision, or need any advice or support, you can contact the Patient Advice and Liaison Service (PALS). They can listen to your concerns and help you:';

/** For a withdrawal, which may have been the patient's own choice. */
export const WITHDRAWAL_LEAD =
  'If you have any concerns about this, or need any advice or support, you can contact the Patient Advice and Liaison Service (PALS). They can listen to your concerns and help you:';

const GENERIC_NAMES = new Set(['pals', 'patient advice and liaison service', 'patient advice and liaison service (pals)']);
const distinctName = (name: string | undefined): string | undefined =>
  name && name.trim() && !GENERIC_NAMES.has(name.trim().toLowerCase()) ? name.trim() : undefined;

/** The PALS paragraph every patient-facing message ends with. */
export const palsSection = (pals: PalsContact, lead: string = DEFAULT_LEAD): string =>
  [
    'Advice and support',
    '',
    lead,
    ...(distinctName(pals.name) ? [`  ${distinctName(pals.name)}`] : []),
    `  Phone: ${pals.phone}${pals.openingHours ? ` (${pals.openingHours})` : ''}`,
    `  Email: ${pals.email}`,
    `  Website: ${pals.url}`,
  ].join('\n');
