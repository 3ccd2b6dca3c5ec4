#!/usr/bin/env bash
# Runs every test: unit (*.spec.ts), integration against the real servers (*.int.spec.ts) and end-to-end
# across the running network (test/**/*.e2e.spec.ts). Starts what it needs (`network.sh start --no-demo`);
# stops again what it started, so a developer's running network is left as it was.
# Then a bounded schema-driven fuzz run of every service (infra/local/fuzz.sh; FUZZ=0 skips it).
# Ends with the line `N passed, N failed[, N skipped]`. Extra arguments go to Jest.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=node-env.sh
source "$ROOT/infra/local/node-env.sh"

was_running=0
bash infra/local/network.sh services-running 2>/dev/null && was_running=1

# Stop again what this run starts, also when it fails half-way (a failed start must not leave servers behind).
if ((was_running == 0)) && [[ -z ${KEEP_NETWORK:-} ]]; then
  trap 'bash infra/local/network.sh stop >/dev/null 2>&1 || true' EXIT
fi

bash infra/local/network.sh start --no-demo
# Jars of Temporal's time-skipping test server (workflow tests start their own); a no-op when cached.
bash infra/local/temporal-test-server.sh install || echo "[test] WARNING: could not install the Temporal test server: time-skipping tests will fail" >&2
# Chromium for the console's browser tests (test/console); a no-op when installed.
bash infra/local/chromium.sh install >/dev/null || echo "[test] WARNING: Chromium is missing: the console's browser tests will fail" >&2

# Static checks first: cheap, and a type or boundary error is worth knowing before the slow suites.
check_failures=0
echo "[test] typecheck (tsc, strict)" >&2
node_modules/.bin/tsc -p tsconfig.json || check_failures=$((check_failures + 1))
echo "[test] lint (ESLint with Nx module boundaries)" >&2
NX_DAEMON=false node_modules/.bin/nx show projects >/dev/null
NX_DAEMON=false node_modules/.bin/eslint . || check_failures=$((check_failures + 1))
echo "[test] Kubernetes manifests (kustomize build | kubeconform -strict, offline schemas)" >&2
bash infra/local/k8s-check.sh || check_failures=$((check_failures + 1))
echo "[test] format (Prettier; \`npm run format\` fixes it)" >&2
node_modules/.bin/prettier --check --log-level=warn . || check_failures=$((check_failures + 1))

results="$ROOT/.local/test-results.json"
rm -f "$results"
set +e
TZ=UTC NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning ${NODE_OPTIONS:-}" \
  node_modules/.bin/jest --ci --maxWorkers=2 --json --outputFile="$results" "$@"
status=$?
set -e

# Schema-driven fuzz run of every service's API (bounded: fixed seed, ~2 min): no 5xx, every answer as documented.
# A failed run counts as one failure, like a static check. FUZZ=0 skips it (said in the summary).
fuzz_failures=0
if [[ ${FUZZ:-1} != 0 ]]; then
  echo "[test] fuzz (schemathesis against the running services; reports in .local/fuzz/)" >&2
  bash infra/local/fuzz.sh || fuzz_failures=1
else
  echo "[test] fuzz skipped (FUZZ=0)" >&2
fi

# The bounded fault suite (test/reliability/README.md): it SIGKILLs the services and kills Kafka, Temporal and
# PostgreSQL of this network (each comes back by itself or is started again), so it runs last, alone. FAULTS=0 skips
# it, e.g. while others test against the same network.
fault_failures=0
if [[ ${FAULTS:-1} != 0 ]]; then
  echo "[test] fault suite (bounded; kills and restarts the network's processes; FAULTS=0 skips it)" >&2
  node test/reliability/fault-suite.mjs || fault_failures=1
else
  echo "[test] fault suite skipped (FAULTS=0)" >&2
fi

if [[ -f $results ]]; then
  CHECK_FAILURES=$check_failures FUZZ_FAILURES=$fuzz_failures FAULT_FAILURES=$fault_failures node -e '
    const r = require(process.argv[1]);
    const skipped = r.numPendingTests + r.numTodoTests;
    // A file that failed outside its tests (could not load, or a beforeAll/afterAll hook threw) counts once.
    const failedSuites = r.testResults.filter((t) => t.status === "failed" && !t.assertionResults.some((a) => a.status === "failed")).length;
    const checks = Number(process.env.CHECK_FAILURES);
    const fuzz = Number(process.env.FUZZ_FAILURES);
    const faults = Number(process.env.FAULT_FAILURES);
    if (failedSuites) console.log(`${failedSuites} test file(s) failed outside their tests (load error or hook)`);
    if (checks) console.log(`${checks} static check(s) failed (typecheck, lint, manifests or format), counted as failures`);
    if (fuzz) console.log("the fuzz run failed (see [fuzz] above and .local/fuzz/), counted as a failure");
    if (faults) console.log("the fault suite failed (see [faults] above), counted as a failure");
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests + failedSuites + checks + fuzz + faults} failed${skipped ? `, ${skipped} skipped` : ""}`);
  ' "$results"
else
  echo "0 passed, 1 failed"
fi
(((check_failures > 0 || fuzz_failures > 0 || fault_failures > 0) && status == 0)) && status=1
exit "$status"
