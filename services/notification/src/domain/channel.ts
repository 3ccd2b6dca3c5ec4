import type { ContactChannel } from '@sonet/contracts';
import type { NotificationStatus } from './entities';

export type { ContactChannel };

/** Channels this service can send through today. SMS and letters (GOV.UK Notify) come later. */
export const SENDABLE_CHANNELS: ReadonlySet<ContactChannel> = new Set<ContactChannel>(['email']);

export interface ContactDetails {
  readonly preferredChannel: ContactChannel;
  readonly email?: string | undefined;
  readonly phone?: string | undefined;
}

export interface ChannelDecision {
  readonly channel: ContactChannel;
  /** Where to send it; null when the event gave no address for the channel (letters: no postal address yet). */
  readonly address: string | null;
  /** `pending` = the dispatcher sends it; anything else is recorded and not sent. */
  readonly status: Extract<NotificationStatus, 'pending' | 'unsupported-channel' | 'no-address'>;
}

const addressFor = (c: ContactDetails): string | null =>
  c.preferredChannel === 'email' ? (c.email ?? null) : c.preferredChannel === 'sms' ? (c.phone ?? null) : null;

/**
 * The recipient's preferred channel, always: we never fall back to another channel on our own, since the
 * patient chose how to be contacted. A channel we cannot send through yet is recorded as unsupported, so
 * operations can see who was not told (and a later SMS/letter sender can pick those rows up).
 */
export function selectChannel(contact: ContactDetails): ChannelDecision {
  const channel = contact.preferredChannel;
  const address = addressFor(contact);
  if (!SENDABLE_CHANNELS.has(channel)) return { channel, address, status: 'unsupported-channel' };
  if (!address) return { channel, address: null, status: 'no-address' };
  return { channel, address, status: 'pending' };
}
