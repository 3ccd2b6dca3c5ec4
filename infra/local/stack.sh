#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The whole local stack: PostgreSQL, Kafka, Temporal, mail server, local GOV.UK Notify server.
#
#   infra/local/stack.sh up          install what is missing, start all four in parallel, wait until healthy
#   infra/local/stack.sh down        stop all (reverse order: notify, mail, temporal, kafka, postgres)
#   infra/local/stack.sh status      one line each + addresses; exit 0 only if all run
#   infra/local/stack.sh install     download/build everything (and the Temporal test server) into .local/cache, start nothing
#   infra/local/stack.sh reset --yes stop all and delete .local/state (caches are kept)
set -euo pipefail

COMPONENT=stack
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

COMPONENTS=(postgres kafka temporal mail notify)

# run_parallel SUBCOMMAND: run `<component>.sh SUBCOMMAND` for all components at once.
run_parallel() {
  local sub=$1 c failed=()
  local -A pids=()
  for c in "${COMPONENTS[@]}"; do
    "$INFRA_DIR/$c.sh" "$sub" &
    pids[$c]=$!
  done
  for c in "${COMPONENTS[@]}"; do
    wait "${pids[$c]}" || failed+=("$c")
  done
  if (( ${#failed[@]} > 0 )); then
    die "$sub failed for: ${failed[*]} (logs in ${LOG_DIR#"$ROOT"/}/)"
  fi
}

row() { printf '  %-9s %-43s %s\n' "$@"; }

summary() {
  local kp=${KAFKA_PORT:-9092} kc=${KAFKA_CONTROLLER_PORT:-9093} tp=${TEMPORAL_PORT:-7233}
  local tu=${TEMPORAL_UI_PORT:-8233} pp=${PGPORT:-5432} sp=${SMTP_PORT:-1025} mp=${MAIL_HTTP_PORT:-8025}
  printf '\n'
  row component address notes
  row --------- ------------------------------------------- -----------------------------------------------
  row postgres "postgres://sonet:sonet@127.0.0.1:$pp/<db>" "dbs: referral records_transfer notification audit"
  row kafka "127.0.0.1:$kp" "bootstrap server (KRaft controller on :$kc)"
  row temporal "127.0.0.1:$tp" "namespace default; UI http://127.0.0.1:$tu"
  row mail "smtp://127.0.0.1:$sp" "inbox UI + API http://127.0.0.1:$mp (GET /api/email)"
  row notify "http://127.0.0.1:${NOTIFY_PORT:-8026}" "GOV.UK Notify API (/v2) + inbox UI (/) + GET /api/messages"
  printf '\n'
}

do_status() {
  local c rc=0
  for c in "${COMPONENTS[@]}"; do
    "$INFRA_DIR/$c.sh" status || rc=3
  done
  return "$rc"
}

case "${1:-}" in
  up)
    start=$SECONDS
    log "starting ${COMPONENTS[*]} (in parallel)..."
    run_parallel start
    log "all up in $(( SECONDS - start ))s"
    do_status || true
    summary
    ;;
  down)
    for (( i = ${#COMPONENTS[@]} - 1; i >= 0; i-- )); do
      "$INFRA_DIR/${COMPONENTS[i]}.sh" stop
    done
    ;;
  status)
    do_status
    ;;
  install)
    run_parallel install
    "$INFRA_DIR/temporal-test-server.sh" install   # after the others: it shares Kafka's Maven repo
    log "everything installed in ${CACHE_DIR#"$ROOT"/}"
    ;;
  reset)
    if [[ ${2:-} != --yes ]]; then
      die "reset deletes all local data (.local/state: databases, Kafka topics, Temporal history, mail); run: $0 reset --yes"
    fi
    for (( i = ${#COMPONENTS[@]} - 1; i >= 0; i-- )); do
      "$INFRA_DIR/${COMPONENTS[i]}.sh" reset
    done
    ;;
  *)
    echo "usage: $(basename "$0") up|down|status|install|reset --yes" >&2
    exit 2
    ;;
esac
