// A local GOV.UK Notify-compatible server for development and tests (development only; never a real send).
//
//   node infra/local/notify/server.mjs          (infra/local/notify.sh start runs it detached)
//
// Notify's API, checked as Notify documents it (notify-api.mjs):
//   POST /v2/notifications/sms | email | letter     201 { id, reference, content, uri, template }
//   GET  /v2/notifications/{id}                      one notification
//   GET  /v2/notifications?reference=&template_type=&status=   { notifications: [...], links }
// Delivery receipts: each accepted message is POSTed to NOTIFY_CALLBACK_URL with `Authorization: Bearer
// NOTIFY_CALLBACK_TOKEN`: delivered (letters: received), permanent-failure for 07700900002 /
// perm-fail@simulator.notify, temporary-failure for 07700900003 / temp-fail@simulator.notify. Failed callbacks are
// retried (5 times, doubling from 1 s).
// Inbox: GET / (HTML), GET /api/messages (JSON; ?reference=, ?type=), GET /api/stats, DELETE /api/messages,
// GET /_status. Accepted messages are appended to NOTIFY_STATE_DIR/messages.jsonl when set (kept across restarts).
//
// Env: NOTIFY_TEMPLATES_FILE (a JSON array of more templates: { id, type, version, name, subject?, body }, as a
// deployment creates per-message templates in its Notify service), NOTIFY_PORT (8026), NOTIFY_HOST (127.0.0.1), NOTIFY_API_KEYS (comma-separated `{name}-{serviceId}-{secret}`;
// default the development key below), NOTIFY_RATE_LIMIT_PER_MINUTE (3000), NOTIFY_DAILY_LIMIT (250000),
// NOTIFY_CALLBACK_URL (http://127.0.0.1:8083/v1/notify/receipts; empty = no receipts), NOTIFY_CALLBACK_TOKEN,
// NOTIFY_RECEIPT_DELAY_MS (300), NOTIFY_STATE_DIR, NOTIFY_RATE_WINDOW_SECONDS (60; tests shorten it),
// NOTIFY_RESPONSE_DELAY_MS (0: a send is answered this much after it is accepted, like a slow Notify; crash tests
// use it to kill a client while messages are accepted but not yet answered).
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  NotifyError,
  Limits,
  authenticate,
  outcomeFor,
  parseApiKey,
  render,
  validateAddress,
  validateEmail,
  validatePhone,
} from './notify-api.mjs';
import { TEMPLATES as GENERIC_TEMPLATES, DEV_API_KEY, DEV_CALLBACK_TOKEN, templatesFromFile } from './templates.mjs';
import { inboxPage } from './inbox-page.mjs';

const env = process.env;
// The generic templates, and those of NOTIFY_TEMPLATES_FILE: a Notify service's own per-message templates.
const TEMPLATES = [...GENERIC_TEMPLATES, ...(env.NOTIFY_TEMPLATES_FILE ? templatesFromFile(env.NOTIFY_TEMPLATES_FILE) : [])];
const config = {
  port: Number(env.NOTIFY_PORT ?? 8026),
  host: env.NOTIFY_HOST ?? '127.0.0.1',
  keys: (env.NOTIFY_API_KEYS || DEV_API_KEY).split(',').map((k) => parseApiKey(k.trim())),
  callbackUrl: env.NOTIFY_CALLBACK_URL ?? 'http://127.0.0.1:8083/v1/notify/receipts',
  callbackToken: env.NOTIFY_CALLBACK_TOKEN ?? DEV_CALLBACK_TOKEN,
  receiptDelayMs: Number(env.NOTIFY_RECEIPT_DELAY_MS ?? 300),
  stateDir: env.NOTIFY_STATE_DIR || null,
  responseDelayMs: Number(env.NOTIFY_RESPONSE_DELAY_MS ?? 0),
};
const limits = new Limits({
  perMinute: Number(env.NOTIFY_RATE_LIMIT_PER_MINUTE ?? 3000),
  perDay: Number(env.NOTIFY_DAILY_LIMIT ?? 250_000),
  // Tests shorten the window (a 429 storm in seconds, not minutes); Notify's is 60 s.
  windowSeconds: Number(env.NOTIFY_RATE_WINDOW_SECONDS ?? 60),
});
const messages = [];
const byId = new Map();
const stats = { accepted: 0, rejected: 0, rateLimited: 0, receiptsSent: 0, receiptsFailed: 0 };

function loadState() {
  if (!config.stateDir) return;
  mkdirSync(config.stateDir, { recursive: true });
  const file = join(config.stateDir, 'messages.jsonl');
  if (!existsSync(file)) return;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const m = JSON.parse(line);
    messages.push(m);
    byId.set(m.id, m);
  }
}

function persist(m) {
  if (config.stateDir) appendFileSync(join(config.stateDir, 'messages.jsonl'), `${JSON.stringify(m)}\n`);
}

/** The recipient fields of each message type, checked as Notify checks them. */
function recipientOf(type, body, personalisation) {
  if (type === 'sms') return { phone_number: validatePhone(body.phone_number) };
  if (type === 'email') return { email_address: validateEmail(body.email_address) };
  const lines = validateAddress(personalisation ?? {});
  return Object.fromEntries(lines.map((l, i) => [`line_${i + 1}`, l]).concat([['postcode', lines[lines.length - 1]]]));
}

const toOf = (m) => m.phone_number ?? m.email_address ?? m.postcode;

function accept(type, body, key) {
  if (!body || typeof body !== 'object') throw new NotifyError(400, 'ValidationError', 'Invalid JSON body');
  const template = TEMPLATES.find((t) => t.id === body.template_id);
  if (!template) throw new NotifyError(400, 'BadRequestError', 'Template not found');
  if (template.type !== type)
    throw new NotifyError(400, 'BadRequestError', `${type} template is not suitable for ${template.type} notification`);
  if (body.reference !== undefined && typeof body.reference !== 'string')
    throw new NotifyError(400, 'ValidationError', 'reference is not a string');
  const recipient = recipientOf(type, body, body.personalisation);
  const content = render(template, body.personalisation ?? {});
  limits.take(key.secret);
  const now = new Date().toISOString();
  const m = {
    id: randomUUID(),
    reference: body.reference ?? null,
    type,
    ...recipient,
    status: type === 'letter' ? 'accepted' : 'sending',
    template: { id: template.id, version: template.version, uri: `/v2/template/${template.id}/version/${template.version}` },
    body: content.body,
    subject: content.subject,
    created_at: now,
    created_by_name: key.name,
    sent_at: now,
    completed_at: null,
    key_name: key.name,
  };
  messages.push(m);
  byId.set(m.id, m);
  persist(m);
  stats.accepted += 1;
  setTimeout(() => void sendReceipt(m, 0), config.receiptDelayMs).unref();
  return m;
}

const publicView = ({ key_name: _k, ...m }) => ({ ...m, uri: `/v2/notifications/${m.id}` });

async function sendReceipt(m, attempt) {
  m.status = outcomeFor(m.type, toOf(m));
  m.completed_at ??= new Date().toISOString();
  if (!config.callbackUrl) return;
  const receipt = {
    id: m.id,
    reference: m.reference,
    to: toOf(m),
    status: m.status,
    created_at: m.created_at,
    completed_at: m.completed_at,
    sent_at: m.sent_at,
    notification_type: m.type,
    template_id: m.template.id,
    template_version: m.template.version,
  };
  try {
    const res = await fetch(config.callbackUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${config.callbackToken}` },
      body: JSON.stringify(receipt),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status >= 500 || res.status === 429) throw new Error(`callback answered ${res.status}`);
    stats.receiptsSent += 1;
  } catch {
    stats.receiptsFailed += 1;
    if (attempt < 5) setTimeout(() => void sendReceipt(m, attempt + 1), 1000 * 2 ** attempt).unref();
  }
}

function list(query) {
  const reference = query.get('reference');
  const type = query.get('template_type') ?? query.get('type');
  const status = query.get('status');
  return messages.filter(
    (m) => (!reference || m.reference === reference) && (!type || m.type === type) && (!status || m.status === status),
  );
}

async function readJson(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
  } catch {
    throw new NotifyError(400, 'ValidationError', 'Invalid JSON body');
  }
}

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'content-type': type });
  res.end(type === 'application/json' ? JSON.stringify(body) : body);
}

async function api(req, res, url) {
  const key = await authenticate(req.headers.authorization, config.keys);
  const post = /^\/v2\/notifications\/(sms|email|letter)$/.exec(url.pathname);
  if (req.method === 'POST' && post) {
    const m = accept(post[1], await readJson(req), key);
    if (config.responseDelayMs > 0) await new Promise((r) => setTimeout(r, config.responseDelayMs));
    return send(res, 201, {
      id: m.id,
      reference: m.reference,
      content:
        m.type === 'sms' ? { body: m.body, from_number: 'NHS' } : { body: m.body, subject: m.subject, from_email: 'local@notify.invalid' },
      uri: `http://${config.host}:${config.port}/v2/notifications/${m.id}`,
      template: m.template,
    });
  }
  const one = /^\/v2\/notifications\/([0-9a-f-]{36})$/.exec(url.pathname);
  if (req.method === 'GET' && one) {
    const m = byId.get(one[1]);
    if (!m) throw new NotifyError(404, 'NoResultFound', 'No result found');
    return send(res, 200, publicView(m));
  }
  if (req.method === 'GET' && url.pathname === '/v2/notifications') {
    return send(res, 200, {
      notifications: list(url.searchParams).reverse().slice(0, 250).map(publicView),
      links: { current: url.pathname + url.search },
    });
  }
  throw new NotifyError(404, 'NotFound', 'Not found');
}

function inbox(req, res, url) {
  if (url.pathname === '/') return send(res, 200, inboxPage(messages, stats), 'text/html; charset=utf-8');
  if (url.pathname === '/_status') return send(res, 200, { status: 'ok' });
  if (url.pathname === '/api/stats') return send(res, 200, { ...stats, messages: messages.length });
  if (url.pathname === '/api/messages' && req.method === 'DELETE') {
    messages.length = 0;
    byId.clear();
    return send(res, 200, { deleted: true });
  }
  if (url.pathname === '/api/messages') return send(res, 200, list(url.searchParams).map(publicView));
  return send(res, 404, { status_code: 404, errors: [{ error: 'NotFound', message: 'Not found' }] });
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', `http://${config.host}`);
  const handle = url.pathname.startsWith('/v2/') ? api(req, res, url) : Promise.resolve(inbox(req, res, url));
  handle.catch((e) => {
    if (e instanceof NotifyError) {
      stats[e.status === 429 ? 'rateLimited' : 'rejected'] += 1;
      return send(res, e.status, e.body());
    }
    send(res, 500, { status_code: 500, errors: [{ error: 'Exception', message: 'Internal server error' }] });
  });
});

loadState();
server.listen(config.port, config.host, () => {
  process.stdout.write(`local Notify on http://${config.host}:${server.address().port} (inbox /, API /v2)\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
