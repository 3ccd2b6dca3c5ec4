import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkerOptions } from '@temporalio/worker';
import { workflowSpanExport } from '@sonet/observability';

/**
 * The workflow-side interceptors, bundled into the workflow code (tools/build.mjs for production bundles, the
 * worker's `workflowModules` when it bundles at start): they continue the client's trace in the workflow and
 * carry it into each activity's headers.
 */
export const WORKFLOW_TRACING_MODULE = require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/** Client interceptors: starting, signalling, updating and querying a workflow are spans, whose context goes in the headers. */
export const tracingClientInterceptors = () => ({ workflow: [new OpenTelemetryWorkflowClientInterceptor()] });

/**
 * Worker options that put Temporal in the trace: activity spans children of the workflow's, and the workflow's
 * own spans (made in the sandbox) exported through this process's span processors (mapped from the interceptor's
 * 1.x SDK shape, see libs/observability/src/workflow-spans.ts).
 */
export function tracingWorkerOptions(bundled: boolean): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  const { processor, resource } = workflowSpanExport();
  return {
    interceptors: {
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
      // A prebuilt bundle already holds them (bundling adds them); Temporal refuses workflowModules with a bundle.
      ...(bundled ? {} : { workflowModules: [WORKFLOW_TRACING_MODULE] }),
    },
    // The interceptor is typed against the 1.x SDK; the processor takes its spans and maps them (see above).
    sinks: { exporter: makeWorkflowExporter(processor as never, resource as never) },
  };
}
