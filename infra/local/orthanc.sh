#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Local PACS: one Orthanc server (Debian package) per demo trust in hospitals/hospitals.json, with the DICOMweb
# plugin (QIDO-RS, WADO-RS, STOW-RS under /dicom-web/) and the Orthanc Explorer web UI (/app/explorer.html).
#
#   infra/local/orthanc.sh install|start|stop|status|reset [ODS...]   (no ODS: every trust in hospitals.json)
#
# Per trust (ports, AE title and the one HTTP Basic user come from hospitals.json, e.g. RJ1: 8042/4242, rj1-pacs):
#   HTTP (REST API, DICOMweb, Explorer)  http://127.0.0.1:<httpPort>   authentication on, loopback clients only
#   DICOM (C-ECHO only: no modality is registered, so C-STORE/C-FIND/C-MOVE/C-GET are refused) on <dicomPort>
# Storage and index in .local/state/orthanc/<ODS>/{storage,index}; orthanc.json there is regenerated from
# hospitals.json on every start. Log .local/logs/orthanc-<ODS>.log, pid .local/run/orthanc-<ODS>.pid.
#
# Env: ORTHANC_START_TIMEOUT (30 s), ORTHANC_HTTP_THREADS (16), ORTHANC_CONCURRENT_JOBS (2),
#      ORTHANC_STORAGE_CACHE_MB (32: Orthanc's in-memory cache of recently used files, default 128),
#      ORTHANC_REQUEST_TIMEOUT (300 s: the HTTP socket's read/write timeout, Orthanc's HttpRequestTimeout),
#      HOSPITALS_JSON (another hospitals file).
set -euo pipefail

COMPONENT=orthanc
PROC_MATCH=Orthanc
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

ORTHANC_START_TIMEOUT="${ORTHANC_START_TIMEOUT:-30}"
ORTHANC_HTTP_THREADS="${ORTHANC_HTTP_THREADS:-16}"
ORTHANC_CONCURRENT_JOBS="${ORTHANC_CONCURRENT_JOBS:-2}"
ORTHANC_REQUEST_TIMEOUT="${ORTHANC_REQUEST_TIMEOUT:-300}"
ORTHANC_STORAGE_CACHE_MB="${ORTHANC_STORAGE_CACHE_MB:-32}"
HOSPITALS_JSON="${HOSPITALS_JSON:-$INFRA_DIR/hospitals/hospitals.json}"
for v in ORTHANC_START_TIMEOUT ORTHANC_HTTP_THREADS ORTHANC_CONCURRENT_JOBS ORTHANC_REQUEST_TIMEOUT ORTHANC_STORAGE_CACHE_MB; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number, got '${!v}'"
done
ORTHANC_BIN=/usr/sbin/Orthanc
DICOMWEB_PLUGIN=/usr/share/orthanc/plugins/libOrthancDicomWeb.so
COMPONENT_STATE_DIR="$STATE_DIR"

# ---------------------------------------------------------------------------------------------------------------
# hospitals.json

# One line per trust: ODS httpPort dicomPort AET username password (tab-separated).
trust_rows() {
  [[ -f $HOSPITALS_JSON ]] || die "$HOSPITALS_JSON not found"
  # shellcheck disable=SC2016  # JavaScript, not shell
  local js='
    const h = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const t of h.trusts || []) {
      const p = t.pacs;
      if (!p) continue;
      for (const k of ["httpPort", "dicomPort", "aet", "username", "password"])
        if (p[k] === undefined || p[k] === "") throw new Error(`trust ${t.ods}: pacs.${k} missing`);
      if (!/^[A-Za-z0-9]+$/.test(t.ods)) throw new Error(`bad ODS code ${t.ods}`);
      console.log([t.ods, p.httpPort, p.dicomPort, p.aet, p.username, p.password].join("\t"));
    }'
  if command -v node >/dev/null; then
    node -e "$js" "$HOSPITALS_JSON" || die "could not read $HOSPITALS_JSON"
  elif command -v jq >/dev/null; then
    jq -r '.trusts[] | select(.pacs) | [.ods, .pacs.httpPort, .pacs.dicomPort, .pacs.aet, .pacs.username, .pacs.password] | @tsv' \
      "$HOSPITALS_JSON" || die "could not read $HOSPITALS_JSON"
  else
    die "need node or jq to read $HOSPITALS_JSON"
  fi
}

declare -a ALL_ODS=()
declare -A T_HTTP=() T_DICOM=() T_AET=() T_USER=() T_PASS=()
load_trusts() {
  local ods http dicom aet user pass rows
  rows="$(trust_rows)"
  while IFS=$'\t' read -r ods http dicom aet user pass; do
    [[ -n $ods ]] || continue
    ALL_ODS+=("$ods")
    T_HTTP[$ods]=$http T_DICOM[$ods]=$dicom T_AET[$ods]=$aet T_USER[$ods]=$user T_PASS[$ods]=$pass
  done <<<"$rows"
  (( ${#ALL_ODS[@]} > 0 )) || die "no trust with a pacs section in $HOSPITALS_JSON"
}

# The trusts named on the command line (checked), or all of them.
declare -a SELECTED=()
select_trusts() {
  local o
  if (( $# == 0 )); then SELECTED=("${ALL_ODS[@]}"); return 0; fi
  for o in "$@"; do
    [[ -n ${T_HTTP[$o]:-} ]] || die "unknown trust '$o' (hospitals.json has: ${ALL_ODS[*]})"
    SELECTED+=("$o")
  done
}

# use_instance ODS: point the common.sh helpers (pid file, log file, process check) at one trust's Orthanc.
use_instance() {
  I_ODS=$1
  I_HTTP=${T_HTTP[$1]} I_DICOM=${T_DICOM[$1]} I_AET=${T_AET[$1]} I_USER=${T_USER[$1]} I_PASS=${T_PASS[$1]}
  I_DIR="$COMPONENT_STATE_DIR/$1"
  I_CONFIG="$I_DIR/orthanc.json"
  I_BASE="http://$BIND_HOST:$I_HTTP"
  COMPONENT="orthanc-$1"
  PID_FILE="$RUN_DIR/orthanc-$1.pid"
  LOG_FILE="$LOG_DIR/orthanc-$1.log"
  PROC_MATCH="$I_CONFIG"
}

# ---------------------------------------------------------------------------------------------------------------
# install

installed() { [[ -x $ORTHANC_BIN && -f $DICOMWEB_PLUGIN ]]; }

# The Debian package may start (and enable) its own Orthanc on 8042/4242 with /etc/orthanc: stop and disable it.
stop_system_orthanc() {
  local pid
  if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    systemctl disable --now orthanc >/dev/null 2>&1 || true
  else
    if command -v service >/dev/null; then service orthanc stop >/dev/null 2>&1 || true; fi
    if command -v update-rc.d >/dev/null; then update-rc.d orthanc disable >/dev/null 2>&1 || true; fi
  fi
  for pid in $(pgrep -f "^$ORTHANC_BIN /etc/orthanc" 2>/dev/null || true); do
    log "stopping the Debian package's system Orthanc (pid $pid) so it does not hold 8042/4242"
    stop_pid "$pid" 10
  done
}

do_install() {
  if installed; then
    if ! command -v dcmdump >/dev/null && is_root; then
      apt_install dcmtk || log "WARNING: could not install dcmtk (optional: dcmdump etc. for looking at DICOM files)"
    fi
    return 0
  fi
  log "Orthanc or its DICOMweb plugin is missing: installing the Debian packages (one-time, ~1 min)"
  apt_install orthanc orthanc-dicomweb dcmtk
  installed || die "packages installed but $ORTHANC_BIN or $DICOMWEB_PLUGIN is missing"
  stop_system_orthanc
  log "installed $("$ORTHANC_BIN" --version 2>/dev/null | head -n 1), DICOMweb plugin $(dpkg-query -W -f '${Version}' orthanc-dicomweb 2>/dev/null)"
}

# ---------------------------------------------------------------------------------------------------------------
# config

# Orthanc's configuration for the current instance (JSON; Orthanc also accepts comments, we write none).
write_config() {
  mkdir -p "$I_DIR/storage" "$I_DIR/index"
  # shellcheck disable=SC2016  # JavaScript, not shell
  ODS="$I_ODS" HTTP_PORT="$I_HTTP" DICOM_PORT="$I_DICOM" AET="$I_AET" USER_NAME="$I_USER" USER_PASS="$I_PASS" \
  DIR="$I_DIR" PLUGIN="$DICOMWEB_PLUGIN" THREADS="$ORTHANC_HTTP_THREADS" JOBS="$ORTHANC_CONCURRENT_JOBS" \
  REQ_TIMEOUT="$ORTHANC_REQUEST_TIMEOUT" CACHE_MB="$ORTHANC_STORAGE_CACHE_MB" \
  node -e '
    const e = process.env;
    const cfg = {
      "//": "Generated by infra/local/orthanc.sh on every start from hospitals.json; edit the script, not this file.",
      Name: `${e.ODS} PACS (local demo)`,
      StorageDirectory: `${e.DIR}/storage`,
      IndexDirectory: `${e.DIR}/index`,
      StorageCompression: false,
      MaximumStorageSize: 0,
      MaximumPatientCount: 0,
      MaximumStorageCacheSize: Number(e.CACHE_MB),
      // A corrected re-send (after a read-back found a damaged copy) must replace the damaged one.
      OverwriteInstances: true,
      Plugins: [e.PLUGIN],
      ConcurrentJobs: Number(e.JOBS),
      HttpServerEnabled: true,
      OrthancExplorerEnabled: true,
      WebDavEnabled: false,
      HttpPort: Number(e.HTTP_PORT),
      HttpDescribeErrors: true,
      HttpCompressionEnabled: false,
      HttpThreadsCount: Number(e.THREADS),
      HttpRequestTimeout: Number(e.REQ_TIMEOUT),
      KeepAlive: true,
      TcpNoDelay: true,
      RemoteAccessAllowed: false,
      SslEnabled: false,
      AuthenticationEnabled: true,
      RegisteredUsers: { [e.USER_NAME]: e.USER_PASS },
      DicomServerEnabled: true,
      DicomAet: e.AET,
      DicomPort: Number(e.DICOM_PORT),
      DicomCheckCalledAet: true,
      DicomCheckModalityHost: true,
      DicomModalities: {},
      DicomAlwaysAllowEcho: true,
      DicomAlwaysAllowStore: false,
      DicomAlwaysAllowFind: false,
      DicomAlwaysAllowGet: false,
      DicomAlwaysAllowMove: false,
      OrthancPeers: {},
      LuaScripts: [],
      DeidentifyLogs: true,
      HttpsCACertificates: "/etc/ssl/certs/ca-certificates.crt",
      LogExportedResources: false,
      DicomWeb: {
        Enable: true,
        Root: "/dicom-web/",
        EnableWado: true,
        WadoRoot: "/wado",
        Ssl: false,
        QidoCaseSensitive: true,
        Servers: {},
      },
    };
    require("fs").writeFileSync(`${e.DIR}/orthanc.json.tmp`, JSON.stringify(cfg, null, 2) + "\n", { mode: 0o600 });
  ' || die "could not write $I_CONFIG"
  mv -f "$I_DIR/orthanc.json.tmp" "$I_CONFIG"
}

# ---------------------------------------------------------------------------------------------------------------
# start / stop / status

http_ok() {
  curl -fsS --max-time 2 -u "$I_USER:$I_PASS" -o /dev/null "$I_BASE/plugins/dicom-web" 2>/dev/null
}
healthy() { http_ok && port_listening "$I_DICOM"; }

# The port must be free; say which trust wants it and who holds it.
check_instance_port_free() {
  local port=$1 what=$2 owner
  port_bound "$port" || return 0
  owner="$(port_owner "$port")"
  if [[ $owner == *Orthanc* ]] && pgrep -f "^$ORTHANC_BIN /etc/orthanc" >/dev/null 2>&1; then
    die "port $port ($I_ODS $what) is held by the Debian package's system Orthanc: stop it (service orthanc stop, or systemctl disable --now orthanc)"
  fi
  die "port $port ($I_ODS $what in ${HOSPITALS_JSON#"$ROOT"/}) is already in use by $owner; stop that process or change the port in hospitals.json"
}

# Start the current instance without waiting; SPAWNED=1 if it was started, 0 if it was already running.
SPAWNED=0
spawn_instance() {
  local pid
  SPAWNED=0
  if pid="$(running_pid)"; then
    log "already running (pid $pid) on $I_BASE"
    return 0
  fi
  rm -f "$PID_FILE"
  check_instance_port_free "$I_HTTP" httpPort
  check_instance_port_free "$I_DICOM" dicomPort
  write_config
  log "starting Orthanc $I_AET: HTTP $I_BASE (user ${I_USER}), DICOM $I_AET@$BIND_HOST:$I_DICOM; log ${LOG_FILE#"$ROOT"/}"
  spawn_detached "$ORTHANC_BIN" "$I_CONFIG"
  SPAWNED=1
}

do_start() {
  take_lock
  ensure_dirs
  need_cmd curl curl
  command -v node >/dev/null || die "node is needed to write Orthanc's configuration"
  do_install
  local o
  local -a spawned=()
  for o in "${SELECTED[@]}"; do
    use_instance "$o"
    spawn_instance
    if (( SPAWNED )); then spawned+=("$o"); fi
  done
  for o in "${SELECTED[@]}"; do
    use_instance "$o"
    wait_until "$ORTHANC_START_TIMEOUT" "$I_BASE/plugins/dicom-web and DICOM port $I_DICOM" healthy
  done
  COMPONENT=orthanc
  if (( ${#spawned[@]} > 0 )); then
    log "ready: ${spawned[*]} (Explorer: http://$BIND_HOST:${T_HTTP[${SELECTED[0]}]}/app/explorer.html)"
  fi
}

# Each Orthanc needs ~2-4 s to stop: signal them all first, then wait for each.
stop_selected() {
  local o pid
  local -A signalled=()
  for o in "${SELECTED[@]}"; do
    use_instance "$o"
    if pid="$(running_pid)"; then
      log "stopping (pid $pid)..."
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      signalled[$o]=$pid
    else
      log "not running"
      rm -f "$PID_FILE"
    fi
  done
  for o in "${!signalled[@]}"; do
    use_instance "$o"
    stop_pid "${signalled[$o]}" "$STOP_TIMEOUT"
    rm -f "$PID_FILE"
    log "stopped"
  done
  COMPONENT=orthanc
}

do_stop() {
  take_lock
  stop_selected
}

do_status() {
  local o pid rc=0 stats
  for o in "${SELECTED[@]}"; do
    use_instance "$o"
    if pid="$(running_pid)" && http_ok; then
      # shellcheck disable=SC2016  # JavaScript, not shell
      stats="$(curl -fsS --max-time 2 -u "$I_USER:$I_PASS" "$I_BASE/statistics" 2>/dev/null \
        | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const j=JSON.parse(s);
            process.stdout.write(`${j.CountStudies} studies, ${j.CountInstances} instances, ${j.TotalDiskSizeMB} MB`)}catch{}})' \
        2>/dev/null || true)"
      print_status yes "$I_BASE" "pid $pid, DICOM $I_AET@$BIND_HOST:$I_DICOM, user $I_USER${stats:+, $stats}" || rc=3
    elif [[ -n ${pid:-} ]]; then
      print_status no "$I_BASE" "pid $pid alive but HTTP not answering" || rc=3
    else
      print_status no "$I_BASE" || rc=3
    fi
    pid=""
  done
  return "$rc"
}

do_reset() {
  take_lock
  local o
  stop_selected
  for o in "${SELECTED[@]}"; do
    use_instance "$o"
    if [[ -d $I_DIR ]]; then
      log "deleting ${I_DIR#"$ROOT"/}"
      rm -rf -- "$I_DIR"
    fi
  done
  COMPONENT=orthanc
  if (( ${#SELECTED[@]} == ${#ALL_ODS[@]} )) && [[ -d $COMPONENT_STATE_DIR ]]; then
    rm -rf -- "$COMPONENT_STATE_DIR"
  fi
  log "reset done (the Orthanc packages stay installed)"
}

cmd="${1:-}"
if (( $# > 0 )); then shift; fi
case "$cmd" in
  install) take_lock; do_install ;;
  start | stop | status | reset)
    load_trusts
    select_trusts "$@"
    "do_$cmd"
    ;;
  *) usage_common ""; echo "  (start|stop|status|reset take optional ODS codes, e.g. $(basename "$0") start RJ1 RTH)" >&2; exit 2 ;;
esac
