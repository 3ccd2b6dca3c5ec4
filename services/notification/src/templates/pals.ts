/** How patients reach the Patient Advice and Liaison Service (DOMAIN rule 11); from configuration. */
export interface PalsContact {
  readonly phone: string;
  readonly email: string;
  readonly url: string;
  readonly openingHours: string;
}

/** The PALS paragraph every patient-facing message ends with. */
export const palsSection = (pals: PalsContact): string =>
  [
    'Advice and support',
    '',
    'If you need any advice or support, you can contact the Patient Advice and Liaison Service (PALS):',
    `  Phone: ${pals.phone} (${pals.openingHours})`,
    `  Email: ${pals.email}`,
    `  Website: ${pals.url}`,
  ].join('\n');
