#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Local GOV.UK Notify-compatible server (infra/local/notify/server.mjs): SMS, email and letters are checked as
# Notify's API documents them, kept, shown in an inbox, and answered with delivery receipts. Development only.
#
#   infra/local/notify.sh start|stop|status|reset
#
# API (the official notifications-node-client works against it) and inbox on http://127.0.0.1:$NOTIFY_PORT
#   GET /                  inbox page          GET /api/messages   accepted messages (JSON; ?reference=, ?type=)
#   GET /api/stats         counts              GET /_status        health
# Receipts go to $NOTIFY_CALLBACK_URL (default the notification service's POST /v1/notify/receipts).
# Accepted messages are kept in .local/state/notify/messages.jsonl (survive restarts; `reset` deletes them).
#
# Env: NOTIFY_PORT (8026), NOTIFY_RATE_LIMIT_PER_MINUTE (3000), NOTIFY_DAILY_LIMIT (250000),
# NOTIFY_CALLBACK_URL, NOTIFY_CALLBACK_TOKEN (see infra/local/notify/templates.mjs), NOTIFY_START_TIMEOUT (20 s).
set -euo pipefail

COMPONENT=notify
# shellcheck source=node-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/node-env.sh"
PROC_MATCH=notify/server.mjs
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

NOTIFY_PORT="${NOTIFY_PORT:-8026}"
NOTIFY_START_TIMEOUT="${NOTIFY_START_TIMEOUT:-20}"
HTTP_BASE="http://$BIND_HOST:$NOTIFY_PORT"

healthy() { curl -fsS --max-time 2 "$HTTP_BASE/_status" >/dev/null 2>&1; }

do_start() {
  take_lock
  ensure_dirs
  need_cmd curl curl
  local pid
  if pid="$(running_pid)"; then
    wait_until "$NOTIFY_START_TIMEOUT" "$HTTP_BASE/_status" healthy
    log "already running (pid $pid): inbox $HTTP_BASE"
    return 0
  fi
  rm -f "$PID_FILE"
  [[ -d $ROOT/node_modules/jose && -d $ROOT/node_modules/libphonenumber-js ]] || die "run npm install first (the server uses jose and libphonenumber-js)"
  check_port_free "$NOTIFY_PORT" NOTIFY_PORT
  log "starting the local Notify server: inbox $HTTP_BASE; log ${LOG_FILE#"$ROOT"/}"
  # The server logs nothing per message (no recipients in the shared log folder).
  spawn_detached env NOTIFY_PORT="$NOTIFY_PORT" NOTIFY_HOST="$BIND_HOST" NOTIFY_STATE_DIR="$STATE_DIR" \
    node "$INFRA_DIR/notify/server.mjs"
  wait_until "$NOTIFY_START_TIMEOUT" "$HTTP_BASE/_status" healthy
  log "ready (pid $(<"$PID_FILE"))"
}

do_status() {
  local pid
  if pid="$(running_pid)" && healthy; then
    print_status yes "$HTTP_BASE" "pid $pid, inbox $HTTP_BASE/"
  else
    print_status no "$HTTP_BASE"
  fi
}

case "${1:-}" in
  install) : ;;
  start) do_start ;;
  stop) take_lock; generic_stop ;;
  status) do_status ;;
  reset) take_lock; generic_reset generic_stop ;;
  *) usage_common ""; exit 2 ;;
esac
