#!/usr/bin/env bash
# Installs what the browser tests (tests/tests/browser.rs) need, then nothing else:
# - Debian's chromium, nodejs and npm, each only when missing (a machine may already have
#   Node.js from elsewhere; any version from Debian 12's 18 on works);
# - the npm packages pinned in tests/browser/package-lock.json, with `npm ci`.
# Run it before `cargo test --workspace`, as root or with sudo. Safe to run again.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
BROWSER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/browser"

# apt output is long and rarely interesting; keep it in a log and show it only on failure.
apt_install() {
    local log sudo=()
    log=$(mktemp /tmp/tessera-setup-apt.XXXXXX.log)
    if ((EUID != 0)); then
        if ! command -v sudo >/dev/null; then
            echo "tests/setup.sh: installing $* needs root (or sudo)" >&2
            return 1
        fi
        sudo=(sudo)
    fi
    echo "installing from Debian: $*"
    if ! {
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update &&
            "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
                apt-get install -y --no-install-recommends "$@"
    } >"$log" 2>&1; then
        cat "$log" >&2
        echo "apt-get failed; full log above ($log)" >&2
        return 1
    fi
}

missing=()
[[ -x $CHROMIUM ]] || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]} > 0)); then
    apt_install "${missing[@]}"
fi

echo "chromium: $("$CHROMIUM" --version 2>/dev/null)"
echo "node: $(node --version), npm: $(npm --version)"

# Exactly the locked versions, from a clean node_modules; no audit or funding requests.
(cd "$BROWSER_DIR" && npm ci --no-audit --no-fund)
