#!/usr/bin/env bash
# The whole second-opinion network on this machine: infrastructure, migrations, the four services and demo data.
#
#   infra/local/network.sh start [--no-demo]   install what is missing, start everything, wait until ready, print addresses
#   infra/local/network.sh stop                stop the services, then the infrastructure
#   infra/local/network.sh restart <service>   restart one service (its supervisor too), leave the rest running
#   infra/local/network.sh status              one line per service and per infrastructure component
#
# `npm start` / `npm stop` / `npm run status` call this. Idempotent: starting what runs is a no-op.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=node-env.sh
source "$ROOT/infra/local/node-env.sh"

LOG_DIR="$ROOT/.local/logs"
RUN_DIR="$ROOT/.local/run"
mkdir -p "$LOG_DIR" "$RUN_DIR" "$ROOT/.local/state"

log() { printf '[network] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# name:port:database
SERVICES=(
  "referral:${REFERRAL_HTTP_PORT:-8081}:referral"
  "records-transfer:${RECORDS_TRANSFER_HTTP_PORT:-8082}:records_transfer"
  "notification:${NOTIFICATION_HTTP_PORT:-8083}:notification"
  "audit:${AUDIT_HTTP_PORT:-8084}:audit"
)
# The web console (services/console): a backend-for-frontend with no database of its own; it starts after the services.
CONSOLE_PORT=${CONSOLE_HTTP_PORT:-8080}
CONSOLE_ENTRY="console:$CONSOLE_PORT:-"
# Everything this script runs as a supervised process: the four services, then the console.
PROCESSES=("${SERVICES[@]}" "$CONSOLE_ENTRY")

# Installs npm dependencies when package-lock.json or a patch of a dependency (patches/, applied by the postinstall
# script) changed since the last install.
ensure_dependencies() {
  local stamp="$ROOT/.local/state/npm-install.sha" want
  want="$({ cat package-lock.json; cat patches/*.patch 2>/dev/null || true; } | sha256sum | cut -d' ' -f1)"
  if [[ -d node_modules && -f $stamp && "$(<"$stamp")" == "$want" ]]; then return 0; fi
  log "installing npm dependencies from package-lock.json (first time: about a minute)..."
  # `npm ci` refuses here: the registry lacks some other-platform optional packages the lockfile names.
  npm install --no-audit --no-fund --loglevel=error >&2
  printf '%s\n' "$want" >"$stamp"
}

build() {
  log "building services (swc + Temporal workflow bundle)..."
  node tools/build.mjs
}

service_pid() {
  local name=$1 pid
  [[ -f $RUN_DIR/$name.pid ]] || return 1
  pid="$(<"$RUN_DIR/$name.pid")"
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "dist/services/$name/" || return 1
  printf '%s\n' "$pid"
}

# The local Notify server's development credentials (infra/local/notify/templates.mjs); a deployment sets its own.
NOTIFY_ENV=(
  NOTIFY_API_KEY="${NOTIFY_API_KEY:-sonet_local-c2676a2c-397a-41a9-8f39-bbd7ece41446-4cc1f426-3f6e-4508-a07f-1dbc6bb6566d}"
  NOTIFY_BASE_URL="http://127.0.0.1:${NOTIFY_PORT:-8026}"
  NOTIFY_CALLBACK_TOKEN="${NOTIFY_CALLBACK_TOKEN:-local-notify-callback-token-development-only}"
)

migrate_all() {
  local entry name db
  for entry in "${SERVICES[@]}"; do
    IFS=: read -r name _ db <<<"$entry"
    PGDATABASE=$db node dist/services/"$name"/src/migrate.js
  done
}

# Pid of the supervisor that keeps a service running (infra/local/lib/supervise.sh), or return 1.
supervisor_pid() {
  local name=$1 pid
  [[ -f $RUN_DIR/$name.supervisor.pid ]] || return 1
  pid="$(<"$RUN_DIR/$name.supervisor.pid")"
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "supervise.sh $name " || return 1
  printf '%s\n' "$pid"
}

# Starts a service under its supervisor, which restarts it when it dies (a crash, a SIGKILL) and stops it when stopped.
start_service() {
  local name=$1 port=$2 db=$3
  local -a env=(HTTP_PORT="$port" PGDATABASE="$db" NODE_ENV="${NODE_ENV:-development}" AUTH_JWKS_FILE="$ROOT/.local/state/auth/jwks.json")
  [[ $name == referral || $name == records-transfer ]] && env+=(WORKFLOW_BUNDLE_PATH="$ROOT/dist/services/$name/workflow-bundle.js")
  [[ $name == records-transfer ]] && env+=(RECORDS_CONNECTORS_FILE="$ROOT/.local/state/records-transfer/connectors.json")
  env+=(OTEL_EXPORTER_ZIPKIN_ENDPOINT="http://127.0.0.1:${ZIPKIN_PORT:-9411}/api/v2/spans")
  # SMS and letters through the local GOV.UK Notify server (infra/local/notify: development key and callback token).
  [[ $name == notification ]] && env+=("${NOTIFY_ENV[@]}")
  # The console signs local sign-ins with the development issuer and calls the services at their local ports.
  [[ $name == console ]] && env+=(
    AUTH_DEV_ISSUER_DIR="$ROOT/.local/state/auth"
    REFERRAL_API_URL="http://127.0.0.1:${REFERRAL_HTTP_PORT:-8081}"
    RECORDS_TRANSFER_API_URL="http://127.0.0.1:${RECORDS_TRANSFER_HTTP_PORT:-8082}"
    NOTIFICATION_API_URL="http://127.0.0.1:${NOTIFICATION_HTTP_PORT:-8083}"
    AUDIT_API_URL="http://127.0.0.1:${AUDIT_HTTP_PORT:-8084}"
    TEMPORAL_UI_URL="http://127.0.0.1:${TEMPORAL_UI_PORT:-8233}"
    TRACE_VIEWER_URL="http://127.0.0.1:${ZIPKIN_PORT:-9411}/zipkin"
  )
  (
    # records-transfer streams imaging: heap limits keep its memory flat while it does (its README, "Memory").
    local -a heap=()
    [[ $name == records-transfer ]] && heap=(${RECORDS_TRANSFER_NODE_HEAP:---max-semi-space-size=4 --max-old-space-size=160})
    rm -f "$RUN_DIR/$name.pid"
    env "${env[@]}" OTEL_SERVICE_NAME="$name" setsid nohup bash infra/local/lib/supervise.sh "$name" "$RUN_DIR/$name.pid" -- \
      node "${heap[@]}" --enable-source-maps --import ./dist/libs/observability/src/register.js "dist/services/$name/src/main.js" \
      >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
    echo $! >"$RUN_DIR/$name.supervisor.pid"
  )
  # Until the supervisor has exec'd node, service_pid calls the service dead: wait for it.
  local i
  for ((i = 0; i < 200; i++)); do
    service_pid "$name" >/dev/null && return 0
    supervisor_pid "$name" >/dev/null || return 0
    sleep 0.05
  done
}

wait_ready() {
  local name=$1 port=$2 deadline=$((SECONDS + ${READY_TIMEOUT:-90}))
  local -A seen=()
  until curl -fs -o /dev/null "http://127.0.0.1:$port/health/ready" 2>/dev/null; do
    # The supervisor restarts a service that exits; one that exits again and again while starting is broken.
    seen[$(service_pid "$name" || echo none)]=1
    if ! supervisor_pid "$name" >/dev/null || ((${#seen[@]} > 3)); then
      tail -n 30 "$LOG_DIR/$name.log" >&2 || true
      die "$name exited while starting (log: .local/logs/$name.log)"
    fi
    if ((SECONDS > deadline)); then
      tail -n 30 "$LOG_DIR/$name.log" >&2 || true
      die "$name not ready on :$port after ${READY_TIMEOUT:-90}s (log: .local/logs/$name.log)"
    fi
    sleep 0.5
  done
  log "$name ready on http://127.0.0.1:$port"
}

stop_service() {
  local name=$1 pid i
  # The supervisor stops its service (SIGTERM, SIGKILL after 30 s) and exits; what follows stops one it left behind.
  if pid="$(supervisor_pid "$name")"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 70; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
  fi
  rm -f "$RUN_DIR/$name.supervisor.pid"
  if ! pid="$(service_pid "$name")"; then
    rm -f "$RUN_DIR/$name.pid"
    [[ -n ${pid:-} ]] && log "$name stopped"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  kill -0 "$pid" 2>/dev/null && { log "$name did not stop in 30s; killing"; kill -KILL "$pid" || true; }
  rm -f "$RUN_DIR/$name.pid"
  log "$name stopped"
}

print_summary() {
  cat <<EOT

  Console (operations, auditors, patients, GPs, teams)  http://127.0.0.1:$CONSOLE_PORT
      sign in with a role and an organisation, e.g. ops X26, auditor X26, gp A81001, clinician RTH

  The second-opinion network is running.

  Referral API (GP, patient, clinical teams)  http://127.0.0.1:${REFERRAL_HTTP_PORT:-8081}/docs
  Records-transfer API                        http://127.0.0.1:${RECORDS_TRANSFER_HTTP_PORT:-8082}/docs
  Notification API                            http://127.0.0.1:${NOTIFICATION_HTTP_PORT:-8083}/docs
  Audit API                                   http://127.0.0.1:${AUDIT_HTTP_PORT:-8084}/docs
  Temporal UI (workflows)                     http://127.0.0.1:${TEMPORAL_UI_PORT:-8233}
  Trace viewer (Zipkin; a referral's trace id: GET /v1/referrals/<id> as ops)  http://127.0.0.1:${ZIPKIN_PORT:-9411}/zipkin/
  Metrics (Prometheus text, each service)     http://127.0.0.1:8081/metrics   :8082/metrics   :8083/metrics   :8084/metrics
  Mail inbox (emails sent to patients)        http://127.0.0.1:${MAIL_HTTP_PORT:-8025}
  Notify inbox (SMS and letters, local Notify) http://127.0.0.1:${NOTIFY_PORT:-8026}/   (JSON: /api/messages)
  Hospital EHR (HAPI FHIR, a partition/trust) http://127.0.0.1:${FHIR_PORT:-8090}/fhir/<trust ODS>/   (e.g. /fhir/RTH/DocumentReference)
  Hospital PACS (Orthanc, one per trust)      RJ1 http://127.0.0.1:8042/app/explorer.html   RTH :8043   RXF :8044   R0A :8045
                                              (logins: infra/local/hospitals/hospitals.json; development only)
  Kafka bootstrap                             127.0.0.1:${KAFKA_PORT:-9092}   (read: infra/local/kafka.sh console-consume referral.events.v1)
  PostgreSQL                                  postgres://sonet:sonet@127.0.0.1:${PGPORT:-5432}/<service db>

  Logs: .local/logs/   Stop: npm stop   Status: npm run status
EOT
}

# The demo trusts' own systems: one HAPI FHIR EHR (a partition per trust; it takes a minute to start, so it starts
# in the background while the rest comes up), an Orthanc PACS per trust, and the fault proxy the tests use.
start_hospitals() {
  bash infra/local/fhir.sh start --no-wait
  bash infra/local/orthanc.sh start
  bash infra/local/toxiproxy.sh start
  # records-transfer reaches the trusts through this file (a deployment writes its own: services/records-transfer/README.md).
  node infra/local/hospitals/connectors.mjs "$ROOT/.local/state/records-transfer/connectors.json"
}

# Waits for the EHR, then seeds the demo patients' records (idempotent: a second run adds nothing).
seed_hospitals() {
  bash infra/local/fhir.sh wait
  log "seeding the demo trusts' records (EHR and PACS)..."
  node infra/local/hospitals/seed-pacs.mjs seed
  node infra/local/hospitals/seed-fhir.mjs
}

cmd_start() {
  local demo=1 started=$SECONDS entry name port db
  [[ ${1:-} == --no-demo ]] && demo=0
  ensure_dependencies
  bash infra/local/stack.sh up
  bash infra/local/zipkin.sh start
  start_hospitals
  build
  log "creating Kafka topics (declared in libs/contracts)..."
  node dist/libs/messaging/src/cli/provision-topics.js
  log "running database migrations..."
  migrate_all
  node dist/services/referral/src/directory/seed.js
  log "development token issuer: $(node dist/libs/auth/src/cli/init-dev-issuer.js "$ROOT/.local/state/auth")"
  # Services still running from an earlier start run the code of an earlier build: restart them on this one.
  for entry in "${PROCESSES[@]}"; do
    IFS=: read -r name _ _ <<<"$entry"
    if service_pid "$name" >/dev/null || supervisor_pid "$name" >/dev/null; then stop_service "$name" & fi
  done
  wait
  for entry in "${SERVICES[@]}"; do
    IFS=: read -r name port db <<<"$entry"
    start_service "$name" "$port" "$db"
  done
  for entry in "${SERVICES[@]}"; do
    IFS=: read -r name port _ <<<"$entry"
    wait_ready "$name" "$port"
  done
  start_service console "$CONSOLE_PORT" -
  wait_ready console "$CONSOLE_PORT"
  seed_hospitals
  if ((demo)); then node tools/demo-data.mjs; fi
  log "network up in $((SECONDS - started))s"
  print_summary
}

cmd_stop() {
  local entry name
  stop_service console
  for entry in "${SERVICES[@]}"; do
    IFS=: read -r name _ _ <<<"$entry"
    stop_service "$name"
  done
  bash infra/local/toxiproxy.sh stop
  bash infra/local/zipkin.sh stop
  bash infra/local/orthanc.sh stop
  bash infra/local/fhir.sh stop
  bash infra/local/stack.sh down
}

# Restarts one service (on the code last built) and waits until it is ready; the others are not touched.
cmd_restart() {
  local want=${1:-} entry name port db
  for entry in "${PROCESSES[@]}"; do
    IFS=: read -r name port db <<<"$entry"
    [[ $name == "$want" ]] || continue
    # A rebuilt service may bring a new migration: apply it first, or its consumers would fail (and dead-letter)
    # on a table that is not there yet. Migrations are additive (ADR 5), so the running copy is unaffected.
    [[ $db == - ]] || PGDATABASE=$db node dist/services/"$name"/src/migrate.js
    stop_service "$name"
    start_service "$name" "$port" "$db"
    wait_ready "$name" "$port"
    return 0
  done
  die "usage: network.sh restart <service> (one of: ${PROCESSES[*]%%:*})"
}

cmd_status() {
  local entry name port rc=0 pid sup
  for entry in "${PROCESSES[@]}"; do
    IFS=: read -r name port _ <<<"$entry"
    sup="supervised"
    supervisor_pid "$name" >/dev/null || sup="NOT supervised"
    if pid="$(service_pid "$name")"; then
      if curl -fs -o /dev/null "http://127.0.0.1:$port/health/ready" 2>/dev/null; then
        printf '%-17s ready    http://127.0.0.1:%s  (pid %s, %s)\n' "$name" "$port" "$pid" "$sup"
      else
        printf '%-17s running  http://127.0.0.1:%s  (pid %s, %s, not ready)\n' "$name" "$port" "$pid" "$sup"; rc=3
      fi
    elif [[ $sup == supervised ]]; then
      printf '%-17s restarting (its supervisor is waiting to start it again; log: .local/logs/%s.log)\n' "$name" "$name"; rc=3
    else
      printf '%-17s stopped\n' "$name"; rc=3
    fi
  done
  bash infra/local/stack.sh status || rc=3
  bash infra/local/fhir.sh status || rc=3
  bash infra/local/orthanc.sh status || rc=3
  bash infra/local/toxiproxy.sh status || rc=3
  bash infra/local/zipkin.sh status || rc=3
  return "$rc"
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) cmd_stop ;;
  restart) shift; cmd_restart "$@" ;;
  status) cmd_status ;;
  services-running)
    # Exit 0 when every service runs (used by test.sh to leave a developer's network as it found it).
    for entry in "${PROCESSES[@]}"; do IFS=: read -r name _ _ <<<"$entry"; service_pid "$name" >/dev/null || exit 1; done ;;
  *) echo "usage: $0 start [--no-demo] | stop | restart <service> | status" >&2; exit 2 ;;
esac
