const ADDRESS = /[^\s<>"'(),;:@]+@[^\s<>"'(),;:@]+/g;

/** Phone numbers: 10 or more digits, spaces or dashes allowed between them. */
const PHONE = /\+?\d(?:[ -]?\d){9,}/g;

/** Error texts can quote an address (SMTP rejections do) or a phone number; strip anything that looks like one. */
export const redactAddresses = (text: string): string => text.replace(ADDRESS, '[address]').replace(PHONE, '[number]');

/**
 * An error described without patient data, for logs, stored reasons and dead-letter headers. Database errors
 * carry a "detail" that quotes the failing row (address, name, rendered body), so only the first line of the
 * message is kept, plus the error's class, SQLSTATE and constraint.
 */
export function safeErrorMessage(e: unknown): string {
  const err = e as { name?: unknown; message?: unknown; code?: unknown; constraint?: unknown };
  const firstLine = (typeof err?.message === 'string' ? err.message : String(e)).split('\n')[0] ?? '';
  const tags = [err?.name, err?.code, err?.constraint].filter((t): t is string => typeof t === 'string' && t.length > 0);
  return redactAddresses(`${tags.length ? `[${tags.join(' ')}] ` : ''}${firstLine}`).slice(0, 500);
}
