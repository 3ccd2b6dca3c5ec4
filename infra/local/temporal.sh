#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Local Temporal dev server (`temporal server start-dev` from the Temporal CLI), persisted to
# a SQLite file so workflows survive restarts; Web UI on.
#
#   infra/local/temporal.sh install|start|stop|status|reset
#   infra/local/temporal.sh cli ARGS...    run the cached `temporal` CLI against this server
#
# Env: TEMPORAL_PORT (7233), TEMPORAL_UI_PORT (8233), TEMPORAL_CLI_VERSION (v1.5.1),
#      TEMPORAL_START_TIMEOUT (90 s), TEMPORAL_EXTRA_ARGS (appended to start-dev).
set -euo pipefail

COMPONENT=temporal
PROC_MATCH="server start-dev"
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

TEMPORAL_PORT="${TEMPORAL_PORT:-7233}"
TEMPORAL_UI_PORT="${TEMPORAL_UI_PORT:-8233}"
TEMPORAL_CLI_VERSION="${TEMPORAL_CLI_VERSION:-v1.5.1}"
TEMPORAL_START_TIMEOUT="${TEMPORAL_START_TIMEOUT:-90}"
TEMPORAL_EXTRA_ARGS="${TEMPORAL_EXTRA_ARGS:-}"
GO_BIN_DIR="$CACHE_DIR/go-bin"
TEMPORAL_BIN="$GO_BIN_DIR/temporal"
VERSION_FILE="$GO_BIN_DIR/temporal.version"
DB_FILE="$STATE_DIR/temporal.db"
ADDRESS="$BIND_HOST:$TEMPORAL_PORT"
GO_PKG="github.com/temporalio/cli/cmd/temporal"

# A `go install` of the CLI already under way (e.g. started by hand): wait for it.
wait_for_other_build() {
  local waited=0
  while pgrep -f "go install $GO_PKG@" >/dev/null 2>&1; do
    if (( waited % 30 == 0 )); then
      log "a 'go install $GO_PKG' is already running; waiting for it (${waited}s)..."
    fi
    sleep 2
    waited=$(( waited + 2 ))
  done
}

installed() {
  [[ -x $TEMPORAL_BIN ]] || return 1
  # A binary without a version file predates this script: take it as the pinned version.
  [[ ! -f $VERSION_FILE ]] || [[ $(<"$VERSION_FILE") == "$TEMPORAL_CLI_VERSION" ]]
}

do_install() {
  wait_for_other_build
  if installed; then
    [[ -f $VERSION_FILE ]] || printf '%s\n' "$TEMPORAL_CLI_VERSION" >"$VERSION_FILE"
    return 0
  fi
  command -v go >/dev/null || die "Go is needed to build the Temporal CLI (go install $GO_PKG@$TEMPORAL_CLI_VERSION); install Go >= 1.24"
  mkdir -p "$GO_BIN_DIR" "$LOG_DIR"
  local ilog="$LOG_DIR/temporal-install.log"
  log "building Temporal CLI $TEMPORAL_CLI_VERSION with go install into ${GO_BIN_DIR#"$ROOT"/}"
  log "  first run takes several minutes (~3-4 min on 2 cores, modules from the Go module proxy); log: ${ilog#"$ROOT"/}"
  if ! GOBIN="$GO_BIN_DIR" GOFLAGS=-buildvcs=false \
      go install -v "$GO_PKG@$TEMPORAL_CLI_VERSION" 2>&1 \
      | tee "$ilog" \
      | awk '/^go: downloading/ { d++; if (d % 50 == 0) { printf "[temporal]   %d modules downloaded...\n", d; fflush() } next }
             { c++; if (c % 100 == 0) { printf "[temporal]   %d packages compiled...\n", c; fflush() } }' >&2; then
    tail -n 30 "$ilog" | sed 's/^/[temporal]   | /' >&2
    die "go install $GO_PKG@$TEMPORAL_CLI_VERSION failed (see ${ilog#"$ROOT"/})"
  fi
  [[ -x $TEMPORAL_BIN ]] || die "go install finished but $TEMPORAL_BIN is missing"
  printf '%s\n' "$TEMPORAL_CLI_VERSION" >"$VERSION_FILE"
  log "installed $("$TEMPORAL_BIN" --version)"
}

# The CLI against this server (TEMPORAL_ADDRESS is read by the CLI; an explicit --address wins).
cli() { TEMPORAL_ADDRESS="$ADDRESS" "$TEMPORAL_BIN" "$@"; }

healthy() {
  "$TEMPORAL_BIN" operator cluster health --address "$ADDRESS" 2>/dev/null | grep -q SERVING || return 1
  "$TEMPORAL_BIN" operator namespace describe default --address "$ADDRESS" >/dev/null 2>&1
}

do_start() {
  take_lock
  ensure_dirs
  local pid
  if pid="$(running_pid)"; then
    if healthy; then
      log "already running (pid $pid) on $ADDRESS"
      return 0
    fi
    log "process $pid is up but not healthy yet; waiting"
    wait_until "$TEMPORAL_START_TIMEOUT" "SERVING on $ADDRESS" healthy
    return 0
  fi
  rm -f "$PID_FILE"
  do_install
  check_port_free "$TEMPORAL_PORT" TEMPORAL_PORT
  check_port_free "$TEMPORAL_UI_PORT" TEMPORAL_UI_PORT
  log "starting dev server on $ADDRESS, UI http://$BIND_HOST:$TEMPORAL_UI_PORT, db ${DB_FILE#"$ROOT"/}; log ${LOG_FILE#"$ROOT"/}"
  local -a extra=()
  if [[ -n $TEMPORAL_EXTRA_ARGS ]]; then read -r -a extra <<<"$TEMPORAL_EXTRA_ARGS"; fi
  spawn_detached "$TEMPORAL_BIN" server start-dev \
    --ip "$BIND_HOST" --port "$TEMPORAL_PORT" \
    --ui-ip "$BIND_HOST" --ui-port "$TEMPORAL_UI_PORT" \
    --db-filename "$DB_FILE" \
    --namespace default \
    --log-level warn \
    "${extra[@]}"
  wait_until "$TEMPORAL_START_TIMEOUT" "SERVING on $ADDRESS and namespace 'default'" healthy
  log "ready on $ADDRESS (pid $(<"$PID_FILE"))"
}

do_stop() {
  take_lock
  generic_stop
}

do_status() {
  component_status "$ADDRESS" "UI http://$BIND_HOST:$TEMPORAL_UI_PORT" port_listening "$TEMPORAL_PORT"
}

case "${1:-}" in
  install) take_lock; do_install ;;
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
  reset) take_lock; generic_reset generic_stop ;;
  cli) shift; [[ -x $TEMPORAL_BIN ]] || die "not installed: run $0 install"; cli "$@" ;;
  *) usage_common "cli ARGS..."; exit 2 ;;
esac
