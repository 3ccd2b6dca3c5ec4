import type { ConsoleConfig } from './config';

/** The referral's workflow in Temporal's UI (its id is `second-opinion/<referralId>`, services/referral). */
export const temporalLink = (config: ConsoleConfig, referralId: string): string =>
  `${config.TEMPORAL_UI_URL}/namespaces/${encodeURIComponent(config.TEMPORAL_NAMESPACE)}/workflows/${encodeURIComponent(`second-opinion/${referralId}`)}`;

/** A trace in the trace viewer, from its W3C trace id. */
export const traceLink = (config: ConsoleConfig, traceId: string | null | undefined): string | null =>
  traceId && /^[0-9a-f]{32}$/.test(traceId) ? `${config.TRACE_VIEWER_URL}/traces/${traceId}` : null;

/** Values of one metric in Prometheus text, by one label: `sonet_referrals{referral_state="gp-review",...} 16`. */
export function metricByLabel(text: string, metric: string, label: string): { label: string; value: number }[] {
  const out: { label: string; value: number }[] = [];
  const line = new RegExp(`^${metric}\\{([^}]*)\\}\\s+([0-9.eE+-]+)$`);
  for (const l of text.split('\n')) {
    const m = line.exec(l.trim());
    if (!m) continue;
    const value = new RegExp(`(?:^|,)${label}="([^"]*)"`).exec(m[1]);
    if (value) out.push({ label: value[1], value: Number(m[2]) });
  }
  return out;
}
