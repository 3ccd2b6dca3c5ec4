#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Trace viewer: the Zipkin server (io.zipkin:zipkin-server exec jar from Maven Central) on the machine's Java,
# spans kept in memory.
#
#   infra/local/zipkin.sh install|start|stop|status|reset
#
# UI on http://127.0.0.1:$ZIPKIN_PORT/zipkin/ (a trace: /zipkin/traces/<trace id>); services send spans to
#   POST /api/v2/spans   (OTEL_EXPORTER_ZIPKIN_ENDPOINT, set by network.sh)
#   GET  /api/v2/trace/{traceId}   one trace as JSON (tests read it)
# Spans live in memory only (the newest ZIPKIN_MAX_SPANS): a restart forgets them.
#
# Env: ZIPKIN_PORT (9411), ZIPKIN_VERSION (3.6.1), ZIPKIN_MAX_SPANS (60000: spans kept in memory, the oldest dropped first), ZIPKIN_START_TIMEOUT (90 s).
set -euo pipefail

COMPONENT=zipkin
PROC_MATCH=zipkin-server
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

ZIPKIN_PORT="${ZIPKIN_PORT:-9411}"
ZIPKIN_VERSION="${ZIPKIN_VERSION:-3.6.1}"
ZIPKIN_MAX_SPANS="${ZIPKIN_MAX_SPANS:-60000}"
ZIPKIN_START_TIMEOUT="${ZIPKIN_START_TIMEOUT:-90}"
ZIPKIN_HOME="$CACHE_DIR/zipkin-$ZIPKIN_VERSION"
JAR="$ZIPKIN_HOME/zipkin-server-$ZIPKIN_VERSION-exec.jar"
M2_REPO="$CACHE_DIR/m2"
BASE="http://$BIND_HOST:$ZIPKIN_PORT"

installed() { [[ -f $JAR ]]; }

do_install() {
  if installed; then return 0; fi
  need_cmd java default-jre-headless
  need_cmd mvn maven
  mkdir -p "$ZIPKIN_HOME" "$LOG_DIR"
  local tmp="$ZIPKIN_HOME/jar.tmp" ilog="$LOG_DIR/zipkin-install.log"
  rm -rf -- "$tmp"
  log "fetching io.zipkin:zipkin-server:$ZIPKIN_VERSION:jar:exec from Maven Central (~130 MB, once) into ${ZIPKIN_HOME#"$ROOT"/}"
  if ! mvn -B -Dmaven.repo.local="$M2_REPO" -Dstyle.color=never dependency:copy \
      -Dartifact="io.zipkin:zipkin-server:$ZIPKIN_VERSION:jar:exec" -DoutputDirectory="$tmp" >"$ilog" 2>&1; then
    tail -n 30 "$ilog" | sed 's/^/[zipkin]   | /' >&2
    die "maven could not fetch io.zipkin:zipkin-server:$ZIPKIN_VERSION (see ${ilog#"$ROOT"/})"
  fi
  mv -f -- "$tmp/zipkin-server-$ZIPKIN_VERSION-exec.jar" "$JAR"
  rm -rf -- "$tmp"
  log "installed Zipkin $ZIPKIN_VERSION"
}

healthy() { [[ $(curl -fsS --max-time 2 "$BASE/health" 2>/dev/null) == *'"UP"'* ]]; }

do_start() {
  take_lock
  ensure_dirs
  need_cmd curl curl
  local pid
  if pid="$(running_pid)"; then
    if healthy; then
      log "already running (pid $pid): UI $BASE/zipkin/"
      return 0
    fi
    wait_until "$ZIPKIN_START_TIMEOUT" "$BASE/health" healthy
    return 0
  fi
  rm -f "$PID_FILE"
  do_install
  check_port_free "$ZIPKIN_PORT" ZIPKIN_PORT
  log "starting Zipkin $ZIPKIN_VERSION: UI $BASE/zipkin/; log ${LOG_FILE#"$ROOT"/}"
  QUERY_PORT="$ZIPKIN_PORT" STORAGE_TYPE=mem MEM_MAX_SPANS="$ZIPKIN_MAX_SPANS" ARMERIA_SERVER_ADDRESS="$BIND_HOST" \
    spawn_detached java -Xms64m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError \
    -Djava.net.preferIPv4Stack=true -jar "$JAR" --logging.level.root=WARN
  wait_until "$ZIPKIN_START_TIMEOUT" "$BASE/health" healthy
  log "ready: UI $BASE/zipkin/ (pid $(<"$PID_FILE"))"
}

do_stop() {
  take_lock
  generic_stop
}

do_status() {
  local pid
  if pid="$(running_pid)" && healthy; then
    print_status yes "$BASE/zipkin/" "pid $pid, Zipkin $ZIPKIN_VERSION, spans in memory"
  elif [[ -n ${pid:-} ]]; then
    print_status no "$BASE/zipkin/" "pid $pid alive but not answering"
  else
    print_status no "$BASE/zipkin/"
  fi
}

case "${1:-}" in
  install) take_lock; do_install ;;
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
  reset) take_lock; generic_reset generic_stop ;;
  *) usage_common; exit 2 ;;
esac
