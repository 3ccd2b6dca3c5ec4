import type { FastifyInstance } from 'fastify';
import { lazyInstrument, scrapeMetrics } from '@sonet/observability';

/** `http.server.request.duration` (semantic conventions; seconds). */
const requestDuration = lazyInstrument(
  (meter) =>
    meter.createHistogram('http.server.request.duration', {
      description: 'Duration of HTTP server requests',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] },
    }),
  'sonet-http',
);

/**
 * Every HTTP answer as `http.server.request.duration` by method, route template (never the raw URL: it holds ids)
 * and status, from which rate, latency and errors per route follow; and `GET /metrics`, the Prometheus text of every
 * metric of the process, outside the API (no token, not in OpenAPI; a deployment keeps it off the public ingress).
 */
export function serveMetrics(fastify: FastifyInstance): void {
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url;
    if (!route || route === '/metrics' || route.startsWith('/health')) return;
    requestDuration().record(reply.elapsedTime / 1000, {
      'http.request.method': request.method,
      'http.route': route,
      'http.response.status_code': reply.statusCode,
      ...(reply.statusCode >= 500 ? { 'error.type': String(reply.statusCode) } : {}),
    });
  });
  fastify.get('/metrics', async (_request, reply) =>
    reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8').send(await scrapeMetrics()),
  );
}
