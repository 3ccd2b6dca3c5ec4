import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';

const root = resolve(__dirname, '../../..');
const rulesFile = resolve(root, 'infra/prometheus/alerts.yml');

interface Rule {
  alert?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Every metric the services export (GET /metrics), as Prometheus names them; the alerts may use these only. */
const EXPORTED = [
  'http_server_request_duration_count',
  'http_server_request_duration_bucket',
  'messaging_kafka_consumer_lag',
  'messaging_dead_letters_total',
  'messaging_inbox_retries_total',
  'messaging_outbox_backlog',
  'messaging_outbox_oldest_age',
  'sonet_referral_steps_overdue',
  'sonet_referrals',
  'sonet_audit_verify_ok',
  'sonet_audit_chain_head',
];
const PROMQL_WORDS = new Set(['sum', 'max', 'min', 'by', 'and', 'or', 'unless', 'rate', 'increase', 'delta', 'without', 'on', 'm']);

const rules = (): Rule[] =>
  (parse(readFileSync(rulesFile, 'utf8')) as { groups: { name: string; rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

describe('the alert rules (infra/prometheus/alerts.yml)', () => {
  it('are Prometheus rule groups: every rule an alert with an expression, a severity and a summary', () => {
    expect(rules().length).toBeGreaterThanOrEqual(5);
    for (const r of rules()) {
      expect({ alert: r.alert, expr: typeof r.expr, severity: r.labels?.severity, summary: typeof r.annotations?.summary }).toEqual({
        alert: expect.stringMatching(/^[A-Z][A-Za-z]+$/),
        expr: 'string',
        severity: expect.stringMatching(/^(page|ticket)$/),
        summary: 'string',
      });
      if (r.for !== undefined) expect(r.for).toMatch(/^\d+[smh]$/);
    }
  });

  it('each link a runbook that exists', () => {
    for (const r of rules()) {
      const runbook = r.annotations?.runbook_url ?? '';
      expect({ alert: r.alert, runbook }).toEqual({ alert: r.alert, runbook: expect.stringMatching(/^docs\/runbooks\/[a-z-]+\.md$/) });
      expect(existsSync(resolve(root, runbook))).toBe(true);
    }
  });

  it('read only metrics the services export, with balanced brackets', () => {
    for (const r of rules()) {
      const expr = r.expr ?? '';
      const withoutStrings = expr
        .replace(/"[^"]*"/g, '""')
        .replace(/\{[^}]*\}/g, '{}')
        .replace(/\[[^\]]*\]/g, '[]');
      const names = (withoutStrings.match(/[a-z_][a-z0-9_]*/g) ?? []).filter((w) => !PROMQL_WORDS.has(w));
      const metrics = names.filter(
        (n) => /_/.test(n) && !/^(messaging_consumer_group_name|messaging_destination_name|error_type|audit_chain|job|http_route)$/.test(n),
      );
      expect({ alert: r.alert, unknown: metrics.filter((m) => !EXPORTED.includes(m)) }).toEqual({ alert: r.alert, unknown: [] });
      for (const [open, close] of ['()', '{}', '[]']) {
        expect(expr.split(open).length).toBe(expr.split(close).length);
      }
    }
  });
});
