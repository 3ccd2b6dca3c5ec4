/** Shared wording and formatting for the plain-text templates. */

/** Events carry UTC; people read UK local time (GMT or BST as the date falls). */
export const UK_TIME_ZONE = 'Europe/London';

const dateFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: UK_TIME_ZONE,
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
});
const timeFormat = new Intl.DateTimeFormat('en-GB', { timeZone: UK_TIME_ZONE, hour: 'numeric', minute: '2-digit', hourCycle: 'h23' });

/** "Tuesday 1 December 2026" in UK local time. */
export function ukDate(iso: string): string {
  const parts = Object.fromEntries(dateFormat.formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${parts.weekday} ${parts.day} ${parts.month} ${parts.year}`;
}

/** "2:30pm", "9am", "midday", "midnight" in UK local time (NHS style). */
export function ukTime(iso: string): string {
  const parts = Object.fromEntries(timeFormat.formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  const hour = Number(parts.hour) % 24;
  const minute = parts.minute ?? '00';
  if (minute === '00' && hour === 0) return 'midnight';
  if (minute === '00' && hour === 12) return 'midday';
  const h12 = hour % 12 === 0 ? 12 : hour % 12;
  return `${h12}${minute === '00' ? '' : `:${minute}`}${hour < 12 ? 'am' : 'pm'}`;
}

/** "Tuesday 1 December 2026 at 2:30pm (UK time)". */
export const ukDateTime = (iso: string): string => `${ukDate(iso)} at ${ukTime(iso)} (UK time)`;

/** "about 12 km (7 miles)". */
export const distance = (km: number): string => {
  const miles = Math.round(km * 0.621371);
  return `about ${Math.round(km)} km (${miles} ${miles === 1 ? 'mile' : 'miles'})`;
};

export const dear = (name: string): string => `Dear ${name.trim()},`;

/** Free text from a person, set off as an indented block so it reads as quoted. */
export const quoted = (text: string): string =>
  text
    .trim()
    .split(/\r?\n/)
    .map((line) => `  ${line}`.trimEnd())
    .join('\n');

/** Short, stable reference for subject lines (the referral id's first block; no patient data). */
export const shortRef = (referralId: string): string => referralId.slice(0, 8);

export const PATIENT_FOOTER = 'This email was sent automatically. Please do not reply to it, as replies are not read.';

/** Ends every message to a GP practice or team (the referral reference is in the message's patient lines). */
export const PROFESSIONAL_FOOTER =
  'This email was sent automatically by the second opinion referral service. Please do not reply to it: use the referral service to see the referral and respond.';

/** Joins paragraphs (each a string or lines) with blank lines; skips empty ones, ends with a newline. */
export function paragraphs(...items: readonly (string | readonly string[] | false | undefined | null)[]): string {
  return `${items
    .filter((p): p is string | readonly string[] => p !== false && p !== undefined && p !== null && p.length > 0)
    .map((p) => (typeof p === 'string' ? p : p.join('\n')))
    .join('\n\n')}\n`;
}

/** The care-responsibility paragraph the guidance repeats: a second opinion does not move care (rule 5). */
export const notAutomaticallyTakingOverCare = (currentTeamName: string | undefined): string =>
  'The new clinical team will not automatically take over your care. If you would like to be treated by them, this needs to be arranged ' +
  'with them and their hospital. ' +
  `Until then, your current clinical team${currentTeamName ? ` (${currentTeamName})` : ''} is still responsible for your care.`;
