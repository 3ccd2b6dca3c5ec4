import { metrics, type Meter, type MeterProvider } from '@opentelemetry/api';
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

/**
 * An instrument made on first use and again whenever the global meter provider changed (a meter taken before
 * OpenTelemetry starts is a no-op one for good; tests start and stop it).
 */
export function lazyInstrument<T>(make: (meter: Meter) => T, meterName: string): () => T {
  let provider: MeterProvider | undefined;
  let made: T | undefined;
  return () => {
    const current = metrics.getMeterProvider();
    if (made === undefined || provider !== current) {
      provider = current;
      made = make(metrics.getMeter(meterName));
    }
    return made;
  };
}
