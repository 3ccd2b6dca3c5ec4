#!/usr/bin/env bash
# Chromium for the console's browser tests (test/console, driven by playwright-core): Debian's `chromium` package.
#
#   infra/local/chromium.sh install   install it when missing (apt-get; needs root or sudo), print its path
#   infra/local/chromium.sh path      print its path, or exit 1 when it is not installed
#
# CHROMIUM_PATH points the tests at another binary (it must be a Chromium that playwright-core 1.65 can drive).
set -euo pipefail

want=${CHROMIUM_PATH:-/usr/bin/chromium}

log() { printf '[chromium] %s\n' "$*" >&2; }

installed() { [[ -x $want ]]; }

install() {
  if installed; then printf '%s\n' "$want"; return 0; fi
  local sudo=()
  ((EUID == 0)) || { command -v sudo >/dev/null && sudo=(sudo -n); }
  if ! command -v apt-get >/dev/null; then
    log "ERROR: Chromium is not installed at $want and apt-get is not available here."
    log "Install Chromium yourself and set CHROMIUM_PATH to it; the console's browser tests need it."
    return 1
  fi
  log "installing Debian's chromium (for the console's browser tests; about a minute)..."
  if ! { "${sudo[@]}" apt-get install -y --no-install-recommends chromium >&2 || { "${sudo[@]}" apt-get update >&2 && "${sudo[@]}" apt-get install -y --no-install-recommends chromium >&2; }; }; then
    log "ERROR: apt-get could not install chromium (no root, or no package source reachable)."
    log "Install Chromium yourself and set CHROMIUM_PATH to it; the console's browser tests need it."
    return 1
  fi
  installed || { log "ERROR: chromium installed but $want is missing; set CHROMIUM_PATH"; return 1; }
  printf '%s\n' "$want"
}

case "${1:-install}" in
  install) install ;;
  path) installed && printf '%s\n' "$want" ;;
  *) echo "usage: $0 install | path" >&2; exit 2 ;;
esac
