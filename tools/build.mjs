// Builds the services for running: swc compiles TypeScript to CommonJS in dist/ (path aliases rewritten),
// then each Temporal workflow entry point is bundled so production workers load a prebuilt bundle.
// Any failure exits non-zero.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** Workflow entry points to bundle: [source index, output bundle]. */
export const WORKFLOW_BUNDLES = [
  ['services/referral/src/workflows/index.ts', 'dist/services/referral/workflow-bundle.js'],
  ['services/records-transfer/src/workflows/index.ts', 'dist/services/records-transfer/workflow-bundle.js'],
];

function compile() {
  const started = Date.now();
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  execFileSync(
    join(root, 'node_modules/.bin/swc'),
    ['services', 'libs', '-d', 'dist', '--config-file', '.swcrc', '--quiet', '--ignore', '**/*.spec.ts', '--ignore', '**/test/**'],
    { cwd: root, stdio: 'inherit' },
  );
  process.stderr.write(`[build] compiled TypeScript in ${Date.now() - started} ms\n`);
}

/** Temporal's OpenTelemetry workflow interceptors go into every bundle (libs/service-kit/src/temporal/tracing-interceptors.ts). */
const WORKFLOW_INTERCEPTORS = [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')];

async function bundleWorkflows() {
  const { bundleWorkflowCode } = require('@temporalio/worker');
  for (const [entry, out] of WORKFLOW_BUNDLES) {
    const started = Date.now();
    const { code } = await bundleWorkflowCode({
      workflowsPath: join(root, entry),
      workflowInterceptorModules: WORKFLOW_INTERCEPTORS,
      logger: quietLogger,
    });
    mkdirSync(dirname(join(root, out)), { recursive: true });
    writeFileSync(join(root, out), code);
    process.stderr.write(`[build] bundled ${entry} -> ${out} in ${Date.now() - started} ms\n`);
  }
}

const quietLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn: (m, meta) => process.stderr.write(`[build] ${m} ${meta ? JSON.stringify(meta) : ''}\n`),
  error: (m, meta) => process.stderr.write(`[build] ${m} ${meta ? JSON.stringify(meta) : ''}\n`),
};

compile();
await bundleWorkflows();
