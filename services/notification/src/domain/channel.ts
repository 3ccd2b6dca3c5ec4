import type { ContactChannel } from '@sonet/contracts';

export type { ContactChannel };

/**
 * Where one recipient can be reached, most preferred channel first. Patients choose their channels; GP practices
 * and clinical teams are always emailed (`preferences: ['email']`).
 */
export interface ContactDetails {
  readonly preferences: readonly ContactChannel[];
  readonly email?: string | undefined;
  readonly mobile?: string | undefined;
  /** A letter's address lines (name first, postcode last). */
  readonly letterLines?: readonly string[] | undefined;
}

/** One channel of a recipient's route and where to send on it (a letter's address: its lines, one per line). */
export interface RouteStep {
  readonly channel: ContactChannel;
  readonly address: string;
}

export interface ChannelDecision {
  /** The channel tried first; with no reachable channel, the most preferred one (recorded as `no-address`). */
  readonly channel: ContactChannel;
  readonly address: string | null;
  readonly status: 'pending' | 'no-address';
  /** The channels to fall back to, in order, when this one fails for good. */
  readonly fallbacks: readonly RouteStep[];
  /** Preferred channels skipped because the recipient gave no address for them. */
  readonly skipped: readonly ContactChannel[];
}

export function addressOn(contact: ContactDetails, channel: ContactChannel): string | null {
  if (channel === 'email') return contact.email ?? null;
  if (channel === 'sms') return contact.mobile ?? null;
  return contact.letterLines?.length ? contact.letterLines.join('\n') : null;
}

/**
 * The recipient's route: their channels in the order they chose, those without an address skipped (and said so).
 * We never use a channel the recipient did not agree to; with none reachable the notification is `no-address`,
 * visible to operations.
 */
export function selectChannel(contact: ContactDetails): ChannelDecision {
  const steps: RouteStep[] = [];
  const skipped: ContactChannel[] = [];
  for (const channel of contact.preferences) {
    const address = addressOn(contact, channel);
    if (address) steps.push({ channel, address });
    else skipped.push(channel);
  }
  const [first, ...fallbacks] = steps;
  if (!first) return { channel: contact.preferences[0] ?? 'email', address: null, status: 'no-address', fallbacks: [], skipped };
  return { channel: first.channel, address: first.address, status: 'pending', fallbacks, skipped };
}
