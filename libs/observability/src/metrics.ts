import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';

let reader: PrometheusExporter | undefined;
const serializer = new PrometheusSerializer();

/**
 * A fresh Prometheus reader for the meter provider being started, kept as the process's one reader; it runs no
 * server of its own: the service's `/metrics` route reads it.
 */
export function metricsReader(): PrometheusExporter {
  reader = new PrometheusExporter({ preventServerStart: true });
  return reader;
}

/** Every metric of this process in the Prometheus text format (empty before OpenTelemetry started). */
export async function scrapeMetrics(): Promise<string> {
  if (!reader) return '';
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length > 0) throw new AggregateError(errors, 'collecting metrics failed');
  return serializer.serialize(resourceMetrics);
}
