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

/**
 * One channel of a recipient's route and where to send on it (a letter's address: its lines, one per line); null
 * when the recipient agreed to the channel but gave no address for it (recorded as such when its turn comes).
 */
export interface RouteStep {
  readonly channel: ContactChannel;
  readonly address: string | null;
}

export interface ChannelDecision {
  /** The channel tried first; with no reachable channel, the most preferred one (recorded as `no-address`). */
  readonly channel: ContactChannel;
  readonly address: string | null;
  readonly status: 'pending' | 'no-address';
  /** The channels after this one, in the recipient's order, to fall back to when this one fails for good. */
  readonly fallbacks: readonly RouteStep[];
  /** Channels before this one skipped because the recipient gave no address for them. */
  readonly skipped: readonly ContactChannel[];
}

export function addressOn(contact: ContactDetails, channel: ContactChannel): string | null {
  if (channel === 'email') return contact.email ?? null;
  if (channel === 'sms') return contact.mobile ?? null;
  return contact.letterLines?.length ? contact.letterLines.join('\n') : null;
}

/**
 * The recipient's route: their channels in the order they chose, starting at the first with an address.
 * We never use a channel the recipient did not agree to; with none reachable the notification is `no-address`,
 * visible to operations.
 */
export function selectChannel(contact: ContactDetails): ChannelDecision {
  const route: RouteStep[] = contact.preferences.map((channel) => ({ channel, address: addressOn(contact, channel) }));
  const current = route.findIndex((step) => step.address !== null);
  if (current < 0) {
    const skipped = route.map((step) => step.channel);
    return { channel: contact.preferences[0] ?? 'email', address: null, status: 'no-address', fallbacks: [], skipped };
  }
  const { channel, address } = route[current]!;
  return {
    channel,
    address,
    status: 'pending',
    fallbacks: route.slice(current + 1),
    skipped: route.slice(0, current).map((step) => step.channel),
  };
}
