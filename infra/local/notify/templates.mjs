// The local Notify service's templates and development credentials (development only: nothing real is behind them).
// Our notification service renders each message itself, so each template is one generic message per channel;
// a deployment creates the same three templates in its Notify service and configures their ids
// (services/notification/.env.example: NOTIFY_TEMPLATE_SMS, NOTIFY_TEMPLATE_EMAIL, NOTIFY_TEMPLATE_LETTER).
// A deployment may add a template per message (NOTIFY_MESSAGE_TEMPLATES); the server learns such templates from
// NOTIFY_TEMPLATES_FILE (templatesFromFile).
import { readFileSync } from 'node:fs';
import { UUID_PATTERN } from './notify-api.mjs';

export const DEV_SERVICE_ID = 'c2676a2c-397a-41a9-8f39-bbd7ece41446';
/** `{name}-{serviceId}-{secret}`, as Notify issues API keys. */
export const DEV_API_KEY = `sonet_local-${DEV_SERVICE_ID}-4cc1f426-3f6e-4508-a07f-1dbc6bb6566d`;
export const DEV_CALLBACK_TOKEN = 'local-notify-callback-token-development-only';

export const TEMPLATES = [
  { id: '9c2ff95d-744a-4742-9a00-a2ad5a079da0', type: 'sms', version: 1, name: 'Second opinion: text message', body: '((body))' },
  {
    id: 'cc208341-0481-4d1f-86d3-58b4b864cd18',
    type: 'email',
    version: 1,
    name: 'Second opinion: email',
    subject: '((subject))',
    body: '((body))',
  },
  {
    id: '1cd9b4f6-33a7-4a7b-a7cf-630e2faf844e',
    type: 'letter',
    version: 1,
    name: 'Second opinion: letter',
    subject: '((subject))',
    body: '((body))',
  },
];

/** More templates from a JSON file (an array of { id, type, version, name, subject?, body }), checked as Notify would hold them. */
export function templatesFromFile(file) {
  const list = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(list)) throw new Error(`${file}: not a JSON array of templates`);
  for (const [i, t] of list.entries()) {
    const where = `${file}: template ${i}`;
    if (!UUID_PATTERN.test(String(t?.id))) throw new Error(`${where}: id is not a UUID`);
    if (!['sms', 'email', 'letter'].includes(t.type)) throw new Error(`${where}: type is not sms, email or letter`);
    if (typeof t.body !== 'string' || !t.body) throw new Error(`${where}: no body`);
    if (t.type !== 'sms' && typeof t.subject !== 'string') throw new Error(`${where}: an ${t.type} template needs a subject`);
    if (TEMPLATES.some((g) => g.id === t.id)) throw new Error(`${where}: ${t.id} is a generic template's id`);
  }
  return list.map((t) => ({ version: 1, name: t.id, ...t }));
}
