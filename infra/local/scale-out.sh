#!/usr/bin/env bash
# The scale-out shape of the network on this machine: a 3-node KRaft Kafka cluster (replication factor 3,
# min.insync.replicas 2), two replicas of each service behind one front port per service, and its own PostgreSQL,
# Temporal dev server, mail and Notify servers. It runs beside the single-node network (`npm start`): other ports,
# everything under .local/scale-out/ (ADR 20; the plan is infra/local/scale-out/shape.cjs).
#
#   infra/local/scale-out.sh start [--no-build]  start everything, wait until ready, print addresses
#   infra/local/scale-out.sh stop                stop the balancer, the replicas, then the infrastructure
#   infra/local/scale-out.sh status              one line per replica, broker and component
#   infra/local/scale-out.sh broker start N      start Kafka node N again (the fault suite's restart after a kill)
#   infra/local/scale-out.sh kafka N ARGS...     infra/local/kafka.sh ARGS against node N (topics, console-consume)
#
# `npm run start:scale-out` / `stop:scale-out` / `status:scale-out` call this. Smaller clusters with the same
# scripts: SCALE_OUT_REPLICAS (2) and SCALE_OUT_BROKERS (3). Heaps are kept small for a shared 2-core machine:
# SCALE_OUT_KAFKA_HEAP (-Xms128m -Xmx384m per broker).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=node-env.sh
source "$ROOT/infra/local/node-env.sh"

# SHAPE_LOCAL, KAFKA_BOOTSTRAP, KAFKA_VOTERS, KAFKA_RF, KAFKA_MIN_ISR, KAFKA_NODES, SHAPE_SERVICES, SHAPE_*_PORT
eval "$(SHAPE_ROOT="$ROOT" node infra/local/scale-out/shape.cjs env scale-out)"
# Every infra/local/<component>.sh keeps its state, logs and pid file under the shape's directory.
export SONET_LOCAL_DIR="$SHAPE_LOCAL"
LOG_DIR="$SHAPE_LOCAL/logs"
RUN_DIR="$SHAPE_LOCAL/run"
STATE_DIR="$SHAPE_LOCAL/state"
mkdir -p "$LOG_DIR" "$RUN_DIR" "$STATE_DIR"
KAFKA_HEAP="${SCALE_OUT_KAFKA_HEAP:--Xms128m -Xmx384m}"
# The checkout's development token issuer: both shapes trust the same one (tokens from `npm run token` work on both).
AUTH_DIR="$ROOT/.local/state/auth"

log() { printf '[scale-out] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------- infrastructure ----------

# The infra script of a component with the shape's ports.
component() {
  local name=$1
  shift
  PGPORT=$SHAPE_PGPORT TEMPORAL_PORT=$SHAPE_TEMPORAL_PORT TEMPORAL_UI_PORT=$SHAPE_TEMPORAL_UI_PORT \
    SMTP_PORT=$SHAPE_SMTP_PORT MAIL_HTTP_PORT=$SHAPE_MAIL_HTTP_PORT NOTIFY_PORT=$SHAPE_NOTIFY_PORT \
    NOTIFY_CALLBACK_URL="http://127.0.0.1:$(front_port notification)/v1/notify/receipts" \
    bash "infra/local/$name.sh" "$@"
}

# kafka_node N ARGS...: infra/local/kafka.sh ARGS as node N of the cluster.
kafka_node() {
  local want=$1 entry id port cport
  shift
  for entry in "${KAFKA_NODES[@]}"; do
    IFS=: read -r id port cport <<<"$entry"
    [[ $id == "$want" ]] || continue
    KAFKA_INSTANCE="kafka-$id" KAFKA_NODE_ID=$id KAFKA_PORT=$port KAFKA_CONTROLLER_PORT=$cport \
      KAFKA_QUORUM_VOTERS=$KAFKA_VOTERS KAFKA_CLUSTER_ID="$(cluster_id)" \
      KAFKA_REPLICATION_FACTOR=$KAFKA_RF KAFKA_MIN_INSYNC_REPLICAS=$KAFKA_MIN_ISR KAFKA_HEAP_OPTS="$KAFKA_HEAP" \
      bash infra/local/kafka.sh "$@"
    return
  done
  die "no Kafka node $want (nodes: ${KAFKA_NODES[*]%%:*})"
}

# The cluster's id, made once and shared by every node (each formats its storage with it).
cluster_id() {
  local f="$STATE_DIR/kafka-cluster.id" id
  if [[ ! -s $f ]]; then
    # 16 random bytes, base64url without padding: Kafka's own format. One starting with '-' reads as a CLI flag.
    id="-"
    while [[ $id == -* ]]; do id="$(node -e "process.stdout.write(require('node:crypto').randomBytes(16).toString('base64url'))")"; done
    printf '%s\n' "$id" >"$f"
  fi
  printf '%s' "$(<"$f")"
}

# The nodes wait for a quorum of controllers before they report started: start them all at once.
kafka_start_all() {
  local entry id failed=0
  local -a pids=()
  cluster_id >/dev/null # made once here, not by each node's start at the same moment
  for entry in "${KAFKA_NODES[@]}"; do
    kafka_node "${entry%%:*}" start &
    pids+=($!)
  done
  for id in "${pids[@]}"; do wait "$id" || failed=1; done
  ((failed == 0)) || die "a Kafka node did not start (logs: ${LOG_DIR#"$ROOT"/}/kafka-*.log)"
}

infra_start() {
  local failed=0 c
  local -a pids=()
  log "starting PostgreSQL :$SHAPE_PGPORT, Temporal :$SHAPE_TEMPORAL_PORT, mail :$SHAPE_SMTP_PORT, Notify :$SHAPE_NOTIFY_PORT and ${#KAFKA_NODES[@]} Kafka nodes..."
  for c in postgres temporal mail notify; do
    component "$c" start &
    pids+=($!)
  done
  kafka_start_all || failed=1
  for c in "${pids[@]}"; do wait "$c" || failed=1; done
  ((failed == 0)) || die "infrastructure did not start (logs: ${LOG_DIR#"$ROOT"/}/)"
}

infra_stop() {
  local entry
  for c in notify mail temporal; do component "$c" stop || true; done
  for entry in "${KAFKA_NODES[@]}"; do kafka_node "${entry%%:*}" stop & done
  wait
  component postgres stop || true
}

# ---------- service replicas ----------

front_port() {
  local entry name front
  for entry in "${SHAPE_SERVICES[@]}"; do
    IFS=: read -r name front _ _ <<<"$entry"
    [[ $name == "$1" ]] && { printf '%s\n' "$front"; return 0; }
  done
  return 1
}

# pid_of FILE MATCH: the pid in FILE when that process runs and its command line holds MATCH.
pid_of() {
  local file=$1 match=$2 pid
  [[ -f $file ]] || return 1
  pid="$(<"$file")"
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$match" || return 1
  printf '%s\n' "$pid"
}

replica_pid() { pid_of "$RUN_DIR/$1.pid" "dist/services/${1%-*}/"; }
supervisor_pid() { pid_of "$RUN_DIR/$1.supervisor.pid" "supervise.sh $1 "; }

# The environment of a replica: the shape's infrastructure, its own port, keys shared by the replicas of a service.
replica_env() {
  local name=$1 port=$2 db=$3
  REPLICA_ENV=(
    HTTP_PORT="$port" PGDATABASE="$db" PGPORT="$SHAPE_PGPORT" KAFKA_BROKERS="$KAFKA_BOOTSTRAP"
    TEMPORAL_ADDRESS="127.0.0.1:$SHAPE_TEMPORAL_PORT" TEMPORAL_UI_URL="http://127.0.0.1:$SHAPE_TEMPORAL_UI_PORT"
    NODE_ENV="${NODE_ENV:-development}" AUTH_JWKS_FILE="$AUTH_DIR/jwks.json" AUTH_DEV_ISSUER_DIR="$AUTH_DIR"
    REFERRAL_SERVICE_URL="http://127.0.0.1:$(front_port referral)"
    OTEL_SERVICE_NAME="$name"
  )
  case $name in
    referral)
      REPLICA_ENV+=(WORKFLOW_BUNDLE_PATH="$ROOT/dist/services/referral/workflow-bundle.js"
        TEMPORAL_PAYLOAD_KEY_FILE="$STATE_DIR/temporal-codec/payload.key" REFERRAL_KEK_FILE="$STATE_DIR/referral-keys/kek.key") ;;
    records-transfer)
      REPLICA_ENV+=(WORKFLOW_BUNDLE_PATH="$ROOT/dist/services/records-transfer/workflow-bundle.js"
        TEMPORAL_PAYLOAD_KEY_FILE="$STATE_DIR/temporal-codec/records-transfer.key"
        RECORDS_CONNECTORS_FILE="$STATE_DIR/records-transfer/connectors.json") ;;
    notification)
      REPLICA_ENV+=(SMTP_PORT="$SHAPE_SMTP_PORT" MAIL_HTTP_PORT="$SHAPE_MAIL_HTTP_PORT"
        NOTIFY_API_KEY="${NOTIFY_API_KEY:-sonet_local-c2676a2c-397a-41a9-8f39-bbd7ece41446-4cc1f426-3f6e-4508-a07f-1dbc6bb6566d}"
        NOTIFY_BASE_URL="http://127.0.0.1:$SHAPE_NOTIFY_PORT"
        NOTIFY_CALLBACK_TOKEN="${NOTIFY_CALLBACK_TOKEN:-local-notify-callback-token-development-only}") ;;
    audit)
      REPLICA_ENV+=(AUDIT_CHECKPOINT_KEY_FILE="$STATE_DIR/audit/checkpoint-signing-key.pem"
        AUDIT_CHECKPOINT_LOG_FILE="$STATE_DIR/audit/checkpoints.ndjson") ;;
  esac
}

# start_replica NAME R PORT DB: replica R of a service under its own supervisor (infra/local/lib/supervise.sh).
start_replica() {
  local name=$1 r=$2 port=$3 db=$4 id="$1-$2" i
  local -a heap=()
  replica_env "$name" "$port" "$db"
  [[ $name == records-transfer ]] && heap=(--max-semi-space-size=4 --max-old-space-size=160)
  rm -f "$RUN_DIR/$id.pid"
  (
    env "${REPLICA_ENV[@]}" setsid nohup bash infra/local/lib/supervise.sh "$id" "$RUN_DIR/$id.pid" -- \
      node "${heap[@]}" --enable-source-maps --import ./dist/libs/observability/src/register.js "dist/services/$name/src/main.js" \
      >>"$LOG_DIR/$id.log" 2>&1 </dev/null &
    echo $! >"$RUN_DIR/$id.supervisor.pid"
  )
  for ((i = 0; i < 200; i++)); do
    replica_pid "$id" >/dev/null && return 0
    supervisor_pid "$id" >/dev/null || return 0
    sleep 0.05
  done
}

wait_ready() {
  local id=$1 port=$2 deadline=$((SECONDS + ${READY_TIMEOUT:-180}))
  until curl -fs -o /dev/null "http://127.0.0.1:$port/health/ready" 2>/dev/null; do
    if ! supervisor_pid "$id" >/dev/null || ((SECONDS > deadline)); then
      tail -n 30 "$LOG_DIR/$id.log" >&2 || true
      die "$id not ready on :$port (log: ${LOG_DIR#"$ROOT"/}/$id.log)"
    fi
    sleep 0.5
  done
  log "$id ready on :$port"
}

# stop_supervised ID MATCH: the supervisor stops its process (SIGTERM, SIGKILL after 30 s); then anything left.
stop_supervised() {
  local id=$1 match=$2 pid i
  if pid="$(pid_of "$RUN_DIR/$id.supervisor.pid" "supervise.sh $id ")"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 70; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  rm -f "$RUN_DIR/$id.supervisor.pid"
  if pid="$(pid_of "$RUN_DIR/$id.pid" "$match")"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN_DIR/$id.pid"
}

# Every replica id:port:database:name, replica 1 of every service first.
replicas() {
  local entry name db ports r port
  local -a list
  for r in 1 2 3 4; do
    for entry in "${SHAPE_SERVICES[@]}"; do
      IFS=: read -r name _ db ports <<<"$entry"
      IFS=, read -r -a list <<<"$ports"
      ((r <= ${#list[@]})) || continue
      port=${list[r - 1]}
      printf '%s %s %s %s %s\n' "$name-$r" "$port" "$db" "$name" "$r"
    done
  done
}

balancer_start() {
  rm -f "$RUN_DIR/balancer.pid"
  (
    setsid nohup bash infra/local/lib/supervise.sh balancer "$RUN_DIR/balancer.pid" -- \
      node infra/local/scale-out/balancer.cjs >>"$LOG_DIR/balancer.log" 2>&1 </dev/null &
    echo $! >"$RUN_DIR/balancer.supervisor.pid"
  )
}

# ---------- commands ----------

cmd_start() {
  local started=$SECONDS build=1 id port db name r entry
  [[ ${1:-} == --no-build ]] && build=0
  node infra/local/scale-out/shape.cjs json scale-out >"$SHAPE_LOCAL/shape.json"
  infra_start
  if ((build)); then log "building services..."; node tools/build.mjs; fi
  log "creating Kafka topics (replication factor $KAFKA_RF, min.insync.replicas $KAFKA_MIN_ISR)..."
  KAFKA_BROKERS=$KAFKA_BOOTSTRAP node dist/libs/messaging/src/cli/provision-topics.js
  log "running database migrations..."
  for entry in "${SHAPE_SERVICES[@]}"; do
    IFS=: read -r name _ db _ <<<"$entry"
    PGPORT=$SHAPE_PGPORT PGDATABASE=$db node dist/services/"$name"/src/migrate.js
  done
  PGPORT=$SHAPE_PGPORT node dist/services/referral/src/directory/seed.js
  [[ -f $AUTH_DIR/jwks.json ]] || node dist/libs/auth/src/cli/init-dev-issuer.js "$AUTH_DIR" >/dev/null
  # The demo trusts' systems are the single-node network's (FHIR :8090, PACS :8042-8045): records transfers reach
  # them only when it runs; referrals without records-sharing consent (the fault suite, the benchmark) never do.
  node infra/local/hospitals/connectors.mjs "$STATE_DIR/records-transfer/connectors.json"
  # Replicas left from an earlier start run an earlier build.
  while read -r id _ _ _ _; do
    if replica_pid "$id" >/dev/null || supervisor_pid "$id" >/dev/null; then stop_supervised "$id" "dist/services/${id%-*}/" & fi
  done < <(replicas)
  wait
  # Replica 1 of each service first: it creates the keys the replicas share (data keys, payload keys) before the
  # others read them.
  while read -r id port db name r; do if ((r == 1)); then start_replica "$name" "$r" "$port" "$db"; fi; done < <(replicas)
  while read -r id port _ _ r; do if ((r == 1)); then wait_ready "$id" "$port"; fi; done < <(replicas)
  while read -r id port db name r; do if ((r > 1)); then start_replica "$name" "$r" "$port" "$db"; fi; done < <(replicas)
  while read -r id port _ _ r; do if ((r > 1)); then wait_ready "$id" "$port"; fi; done < <(replicas)
  pid_of "$RUN_DIR/balancer.supervisor.pid" "supervise.sh balancer " >/dev/null || balancer_start
  for entry in "${SHAPE_SERVICES[@]}"; do
    IFS=: read -r name port _ _ <<<"$entry"
    wait_front "$name" "$port"
  done
  log "scale-out network up in $((SECONDS - started))s"
  print_summary
}

wait_front() {
  local name=$1 port=$2 deadline=$((SECONDS + 30))
  until curl -fs -o /dev/null "http://127.0.0.1:$port/health/ready" 2>/dev/null; do
    ((SECONDS < deadline)) || { tail -n 20 "$LOG_DIR/balancer.log" >&2; die "$name front :$port not answering"; }
    sleep 0.3
  done
}

print_summary() {
  local entry name front ports
  printf '\n  The scale-out network is running (beside the single-node one; data in %s/).\n\n' "${SHAPE_LOCAL#"$ROOT"/}"
  printf '  %-17s %-28s %s\n' service "front (use this)" replicas
  for entry in "${SHAPE_SERVICES[@]}"; do
    IFS=: read -r name front _ ports <<<"$entry"
    printf '  %-17s %-28s %s\n' "$name" "http://127.0.0.1:$front" "${ports//,/ }"
  done
  cat <<EOT

  Kafka bootstrap     $KAFKA_BOOTSTRAP   (replication factor $KAFKA_RF, min.insync.replicas $KAFKA_MIN_ISR)
  Temporal            127.0.0.1:$SHAPE_TEMPORAL_PORT   UI http://127.0.0.1:$SHAPE_TEMPORAL_UI_PORT
  PostgreSQL          postgres://sonet:sonet@127.0.0.1:$SHAPE_PGPORT/<service db>
  Mail inbox          http://127.0.0.1:$SHAPE_MAIL_HTTP_PORT     Notify inbox http://127.0.0.1:$SHAPE_NOTIFY_PORT/

  Logs: ${LOG_DIR#"$ROOT"/}/   Faults: npm run faults:scale-out   Bench: npm run bench:scale-out   Stop: npm run stop:scale-out
EOT
}

cmd_stop() {
  local id
  stop_supervised balancer "scale-out/balancer.cjs"
  while read -r id _ _ _ _; do stop_supervised "$id" "dist/services/${id%-*}/" & done < <(replicas)
  wait
  log "replicas stopped"
  infra_stop
}

cmd_status() {
  local rc=0 id port pid sup entry
  while read -r id port _ _ _; do
    sup=supervised
    supervisor_pid "$id" >/dev/null || sup="NOT supervised"
    if pid="$(replica_pid "$id")" && curl -fs -o /dev/null "http://127.0.0.1:$port/health/ready" 2>/dev/null; then
      printf '%-19s ready    http://127.0.0.1:%s  (pid %s, %s)\n' "$id" "$port" "$pid" "$sup"
    elif [[ -n ${pid:-} ]]; then
      printf '%-19s running  http://127.0.0.1:%s  (pid %s, %s, not ready)\n' "$id" "$port" "$pid" "$sup"; rc=3
    else
      printf '%-19s stopped  (%s)\n' "$id" "$sup"; rc=3
    fi
    pid=""
  done < <(replicas)
  if pid="$(pid_of "$RUN_DIR/balancer.pid" "scale-out/balancer.cjs")"; then
    printf '%-19s running  fronts' balancer
    for entry in "${SHAPE_SERVICES[@]}"; do IFS=: read -r _ port _ _ <<<"$entry"; printf ' :%s' "$port"; done
    printf '  (pid %s)\n' "$pid"
  else
    printf '%-19s stopped\n' balancer; rc=3
  fi
  for entry in "${KAFKA_NODES[@]}"; do kafka_node "${entry%%:*}" status || rc=3; done
  for c in postgres temporal mail notify; do component "$c" status || rc=3; done
  return "$rc"
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  broker)
    [[ ${2:-} == start && -n ${3:-} ]] || die "usage: $0 broker start N"
    kafka_node "$3" start ;;
  kafka) shift; [[ -n ${1:-} ]] || die "usage: $0 kafka N ARGS..."; kafka_node "$@" ;;
  component) shift; component "$@" ;;
  *) echo "usage: $0 start [--no-build] | stop | status | broker start N | kafka N ARGS..." >&2; exit 2 ;;
esac
