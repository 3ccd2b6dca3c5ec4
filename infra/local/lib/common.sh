# shellcheck shell=bash
# Shared helpers for infra/local/<component>.sh. Not executable on its own.
#
# The sourcing script sets COMPONENT (and optionally PROC_MATCH, a substring that the
# command line of the component's process must contain, to guard against reused pids).
# Everything the scripts write lives under $ROOT/.local/:
#   cache/                 downloads and builds (kept by `reset`)
#   state/<component>/     data (deleted by `reset`)
#   logs/<component>.log   process output
#   run/<component>.pid    pid of the running process
#   run/<component>.lock   serialises install/start/stop/reset of one component
# SONET_LOCAL_DIR moves state/, logs/ and run/ elsewhere (the scale-out shape uses .local/scale-out, so it runs beside
# the single-node network of the same checkout); cache/ stays in .local/cache, shared by both.

: "${COMPONENT:?COMPONENT must be set before sourcing common.sh}"

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$INFRA_DIR/../.." && pwd)"
LOCAL_DIR="${SONET_LOCAL_DIR:-$ROOT/.local}"
CACHE_DIR="$ROOT/.local/cache"
STATE_DIR="$LOCAL_DIR/state/$COMPONENT"
LOG_DIR="$LOCAL_DIR/logs"
RUN_DIR="$LOCAL_DIR/run"
LOG_FILE="$LOG_DIR/$COMPONENT.log"
PID_FILE="$RUN_DIR/$COMPONENT.pid"
BIND_HOST=127.0.0.1
PROC_MATCH="${PROC_MATCH:-}"
# shellcheck disable=SC2034  # used by the component scripts
STOP_TIMEOUT="${STOP_TIMEOUT:-30}"

log() { printf '[%s] %s\n' "$COMPONENT" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

ensure_dirs() { mkdir -p "$CACHE_DIR" "$STATE_DIR" "$LOG_DIR" "$RUN_DIR"; }

# Take this component's lock (fd 9) so two invocations don't race. Children that
# outlive the script must not inherit fd 9: spawn_detached closes it.
take_lock() {
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/$COMPONENT.lock"
  if ! flock -n 9; then
    log "another $COMPONENT.sh is busy; waiting for it..."
    flock -w 900 9 || die "could not get $RUN_DIR/$COMPONENT.lock within 15 min"
  fi
}

is_root() { [[ $(id -u) -eq 0 ]]; }

# apt_install PKG...: install Debian packages (root only), running apt-get update once.
APT_UPDATED=0
apt_install() {
  is_root || die "need Debian package(s) '$*' but not root: install them (sudo apt-get install -y $*)"
  command -v apt-get >/dev/null || die "need '$*' and apt-get is not available: install them by hand"
  if [[ $APT_UPDATED -eq 0 ]]; then
    log "apt-get update..."
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    APT_UPDATED=1
  fi
  log "apt-get install -y $* (one-time)..."
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

# need_cmd CMD [DEBIAN_PACKAGE]: make sure a command exists, installing its package if we can.
# The Go toolchain for tools built with `go install`: on PATH, or where the official tarball puts it.
find_go() {
  if command -v go >/dev/null; then command -v go; return 0; fi
  if [[ -x /usr/local/go/bin/go ]]; then printf '%s\n' /usr/local/go/bin/go; return 0; fi
  return 1
}

need_cmd() {
  command -v "$1" >/dev/null && return 0
  [[ -n ${2:-} ]] || die "required command '$1' not found"
  apt_install "$2"
  command -v "$1" >/dev/null || die "'$1' still missing after installing $2"
}

# Pid of the running component (from its pid file), or return 1.
running_pid() {
  local pid
  [[ -f $PID_FILE ]] || return 1
  pid="$(<"$PID_FILE")"
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -n $PROC_MATCH && -r /proc/$pid/cmdline ]]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$PROC_MATCH" || return 1
  fi
  printf '%s\n' "$pid"
}

# port_listening PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_listening() {
  # shellcheck disable=SC2016  # $0/$1 expand in the child bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$BIND_HOST" "$1" 2>/dev/null
}

# port_bound PORT: a listening socket exists on PORT on any address (catches 0.0.0.0 / ::).
port_bound() {
  if command -v ss >/dev/null; then
    [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]
  else
    port_listening "$1"
  fi
}

# Human description of who holds PORT (best effort).
port_owner() {
  local out=""
  if command -v ss >/dev/null; then
    out="$(ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\)))/\1/p' | head -n 1)"
  fi
  printf '%s\n' "${out:-unknown process}"
}

# check_port_free PORT ENVVAR: fail clearly when a port we are about to use is taken.
check_port_free() {
  if port_bound "$1"; then
    die "port $1 is already in use by $(port_owner "$1"); stop that process or pick another port, e.g. $2=$(( $1 + 1 )) $0 start"
  fi
}

# Byte size of the log file (to look only at lines written after a given point).
log_size() { if [[ -f $LOG_FILE ]]; then stat -c %s "$LOG_FILE"; else echo 0; fi; }

# log_since OFFSET: log content written after OFFSET bytes.
log_since() { tail -c "+$(( $1 + 1 ))" "$LOG_FILE" 2>/dev/null || true; }

# spawn_detached CMD...: run CMD in its own session, immune to hangups, output appended to
# the log file, pid written to the pid file. The script never waits for it.
spawn_detached() {
  mkdir -p "$LOG_DIR" "$RUN_DIR"
  printf '\n===== %s: %s start =====\n' "$(date -Is)" "$COMPONENT" >>"$LOG_FILE"
  setsid nohup "$@" >>"$LOG_FILE" 2>&1 </dev/null 9>&- &
  local pid=$! i
  printf '%s\n' "$pid" >"$PID_FILE"
  # Until it execs the command, the child is a copy of this script: on a busy machine a check of its command line
  # right after the spawn (running_pid) would take it for another process and report it dead. Wait for the exec.
  if [[ -n $PROC_MATCH ]]; then
    for ((i = 0; i < 200; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$PROC_MATCH" && break
      sleep 0.05
    done
  fi
}

fail_with_log() {
  log "ERROR: $*"
  if [[ -f $LOG_FILE ]]; then
    log "last 40 lines of ${LOG_FILE#"$ROOT"/}:"
    tail -n 40 "$LOG_FILE" | sed "s/^/[$COMPONENT]   | /" >&2
  fi
  exit 1
}

# wait_until TIMEOUT WHAT CMD...: poll CMD until it succeeds; fail (with the log tail) if
# the process dies or TIMEOUT seconds pass. Prints a progress dot line every 10 s.
wait_until() {
  local timeout=$1 what=$2 start=$SECONDS next=10
  shift 2
  until "$@" >/dev/null 2>&1; do
    # Checked twice: while the spawned chain (setsid, nohup, the server) execs, /proc/PID/cmdline can read empty.
    running_pid >/dev/null || { sleep 0.5; running_pid >/dev/null; } || fail_with_log "$COMPONENT exited while waiting for $what"
    if (( SECONDS - start >= timeout )); then
      fail_with_log "timed out after ${timeout}s waiting for $what"
    fi
    if (( SECONDS - start >= next )); then
      log "still waiting for $what ($(( SECONDS - start ))s)..."
      next=$(( next + 10 ))
    fi
    sleep 0.5
  done
}

# stop_pid PID TIMEOUT: SIGTERM the process group, then SIGKILL after TIMEOUT seconds.
stop_pid() {
  local pid=$1 timeout=$2 waited=0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if (( waited >= timeout * 2 )); then
      log "did not stop within ${timeout}s; sending SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.5
    waited=$(( waited + 1 ))
  done
}

# Default `stop`: graceful stop of the pid-file process.
generic_stop() {
  local pid
  if pid="$(running_pid)"; then
    log "stopping (pid $pid)..."
    stop_pid "$pid" "$STOP_TIMEOUT"
    log "stopped"
  else
    log "not running"
  fi
  rm -f "$PID_FILE"
}

# Default `reset`: stop, then delete the state dir (never the cache).
generic_reset() {
  "$@"   # the component's stop function
  if [[ -d $STATE_DIR ]]; then
    log "deleting ${STATE_DIR#"$ROOT"/}"
    rm -rf -- "$STATE_DIR"
  fi
  log "reset done (cache kept in ${CACHE_DIR#"$ROOT"/})"
}

# print_status OK ADDRESS [DETAIL]: the one-line status and its exit code (0 running, 3 not).
print_status() {
  local ok=$1 addr=$2 detail=${3:-}
  if [[ $ok == yes ]]; then
    printf '%-9s running  %s%s\n' "$COMPONENT" "$addr" "${detail:+  ($detail)}"
    return 0
  fi
  printf '%-9s stopped  %s%s\n' "$COMPONENT" "$addr" "${detail:+  ($detail)}"
  return 3
}

# component_status ADDRESS DETAIL CHECK...: print_status for the usual case: running when the pid-file process runs
# and CHECK (a command) succeeds; "alive but not answering" when only the process runs. DETAIL follows "pid N, ".
component_status() {
  local addr=$1 detail=$2 pid
  shift 2
  if pid="$(running_pid)" && "$@" >/dev/null 2>&1; then
    print_status yes "$addr" "pid $pid${detail:+, $detail}"
  elif [[ -n ${pid:-} ]]; then
    print_status no "$addr" "pid $pid alive but not answering"
  else
    print_status no "$addr"
  fi
}

usage_common() {
  cat >&2 <<EOF
usage: $(basename "$0") install|start|stop|status|reset${1:+|$1}
  install  download/build into .local/cache (no-op when cached)
  start    install if needed, start in the background, wait until healthy
  stop     stop gracefully (kill after a timeout)
  status   one line; exit 0 if running, 3 if not
  reset    stop and delete .local/state/$COMPONENT (keeps the cache)
EOF
}
