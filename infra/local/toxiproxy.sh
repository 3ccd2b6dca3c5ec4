#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Fault-injecting TCP proxy for tests: Toxiproxy server (built with go install), HTTP API on 127.0.0.1.
#
#   infra/local/toxiproxy.sh install|start|stop|status|reset
#   infra/local/toxiproxy.sh cli ARGS...    the cached toxiproxy-cli pointed at this server
#
# Tests create proxies and toxics through the HTTP API on http://127.0.0.1:$TOXIPROXY_PORT, e.g.
#   POST /proxies {"name":"pacs-rj1","listen":"127.0.0.1:18042","upstream":"127.0.0.1:8042"}
#   POST /proxies/pacs-rj1/toxics {"type":"latency","stream":"downstream","attributes":{"latency":500}}
#   POST /reset   (enable every proxy, delete every toxic)      DELETE /proxies/pacs-rj1
# Proxies live in memory only: a restart forgets them (and `reset` has no state to delete).
#
# Env: TOXIPROXY_PORT (8474), TOXIPROXY_VERSION (v2.12.0), TOXIPROXY_START_TIMEOUT (30 s).
set -euo pipefail

COMPONENT=toxiproxy
PROC_MATCH=toxiproxy
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

TOXIPROXY_PORT="${TOXIPROXY_PORT:-8474}"
TOXIPROXY_VERSION="${TOXIPROXY_VERSION:-v2.12.0}"
TOXIPROXY_START_TIMEOUT="${TOXIPROXY_START_TIMEOUT:-30}"
TOXIPROXY_HOME="$CACHE_DIR/toxiproxy-${TOXIPROXY_VERSION#v}"
SERVER_BIN="$TOXIPROXY_HOME/toxiproxy-server"
CLI_BIN="$TOXIPROXY_HOME/toxiproxy-cli"
GO_MODULE="github.com/Shopify/toxiproxy/v2"
API="http://$BIND_HOST:$TOXIPROXY_PORT"

installed() { [[ -x $SERVER_BIN && -x $CLI_BIN ]]; }

# go install names the binaries after their package dirs (server, cli): build into a temp GOBIN, then rename.
do_install() {
  if installed; then return 0; fi
  local go
  go="$(find_go)" || die "Go is needed to build Toxiproxy (go install $GO_MODULE/cmd/server@$TOXIPROXY_VERSION); install Go >= 1.22"
  mkdir -p "$TOXIPROXY_HOME" "$LOG_DIR"
  local tmp="$TOXIPROXY_HOME/bin.tmp" ilog="$LOG_DIR/toxiproxy-install.log"
  rm -rf -- "$tmp"
  log "building Toxiproxy $TOXIPROXY_VERSION (server + cli) with go install into ${TOXIPROXY_HOME#"$ROOT"/}"
  log "  first run ~15-60 s (modules from the Go module proxy); log: ${ilog#"$ROOT"/}"
  # -X stamps the version that GET /version and -version report (a plain go install says "git").
  if ! GOBIN="$tmp" GOFLAGS=-buildvcs=false \
      "$go" install -ldflags "-s -w -X $GO_MODULE.Version=${TOXIPROXY_VERSION#v}" \
      "$GO_MODULE/cmd/server@$TOXIPROXY_VERSION" "$GO_MODULE/cmd/cli@$TOXIPROXY_VERSION" >"$ilog" 2>&1; then
    tail -n 30 "$ilog" | sed 's/^/[toxiproxy]   | /' >&2
    die "go install of Toxiproxy $TOXIPROXY_VERSION failed (see ${ilog#"$ROOT"/})"
  fi
  [[ -x $tmp/server && -x $tmp/cli ]] || die "go install finished but $tmp/server or $tmp/cli is missing"
  mv -f -- "$tmp/server" "$SERVER_BIN"
  mv -f -- "$tmp/cli" "$CLI_BIN"
  rm -rf -- "$tmp"
  log "installed $("$SERVER_BIN" -version 2>&1 | head -n 1) in ${TOXIPROXY_HOME#"$ROOT"/}"
}

healthy() { [[ $(curl -fsS --max-time 2 "$API/version" 2>/dev/null) == *'"version"'* ]]; }

do_start() {
  take_lock
  ensure_dirs
  need_cmd curl curl
  local pid
  if pid="$(running_pid)"; then
    if healthy; then
      log "already running (pid $pid): API $API"
      return 0
    fi
    wait_until "$TOXIPROXY_START_TIMEOUT" "$API/version" healthy
    return 0
  fi
  rm -f "$PID_FILE"
  do_install
  check_port_free "$TOXIPROXY_PORT" TOXIPROXY_PORT
  log "starting Toxiproxy $TOXIPROXY_VERSION: API $API; log ${LOG_FILE#"$ROOT"/}"
  # LOG_LEVEL: the server logs every proxy/toxic change and client connection at info; warn keeps the log short.
  LOG_LEVEL="${TOXIPROXY_LOG_LEVEL:-warn}" spawn_detached "$SERVER_BIN" -host "$BIND_HOST" -port "$TOXIPROXY_PORT"
  wait_until "$TOXIPROXY_START_TIMEOUT" "$API/version" healthy
  log "ready: API $API (pid $(<"$PID_FILE"))"
}

do_stop() {
  take_lock
  generic_stop
}

do_status() {
  local n
  n="$(curl -fsS --max-time 2 "$API/proxies" 2>/dev/null | grep -o '"name":' | wc -l || true)"
  component_status "$API" "Toxiproxy $TOXIPROXY_VERSION, ${n:-0} proxies" healthy
}

case "${1:-}" in
  install) take_lock; do_install ;;
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
  reset) take_lock; generic_reset generic_stop ;;
  cli) shift; installed || die "not installed: run $0 install"; "$CLI_BIN" -host "$API" "$@" ;;
  *) usage_common "cli ARGS..."; exit 2 ;;
esac
