// The local Notify inbox: every accepted message, newest first, with its status (development only).
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const row = (m) => `<tr>
  <td>${esc(m.created_at)}</td><td>${esc(m.type)}</td>
  <td>${esc(m.phone_number ?? m.email_address ?? [m.line_1, m.postcode].join(', '))}</td>
  <td>${esc(m.status)}</td><td><code>${esc(m.reference)}</code></td>
  <td>${m.subject ? `<strong>${esc(m.subject)}</strong><br>` : ''}<pre>${esc(m.body)}</pre></td>
</tr>`;

export const inboxPage = (messages, stats) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Local Notify inbox</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.4em;vertical-align:top;text-align:left}pre{white-space:pre-wrap;margin:0;font-family:inherit}</style>
</head><body>
<h1>Local GOV.UK Notify: inbox</h1>
<p>Development only: nothing here was sent to a phone, mailbox or letterbox. ${messages.length} messages;
accepted ${stats.accepted}, rejected ${stats.rejected}, rate-limited ${stats.rateLimited}, receipts sent ${stats.receiptsSent}.
JSON: <a href="/api/messages">/api/messages</a>, <a href="/api/stats">/api/stats</a>.</p>
<table><thead><tr><th>accepted</th><th>type</th><th>to</th><th>status</th><th>reference</th><th>message</th></tr></thead>
<tbody>${[...messages].reverse().slice(0, 500).map(row).join('')}</tbody></table>
</body></html>`;
