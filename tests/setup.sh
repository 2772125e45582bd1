#!/usr/bin/env bash
# Installs what the browser tests (tests/tests/browser.rs) and the admin API fuzzer
# (tests/tests/admin_fuzz.rs) need, then nothing else:
# - Debian's chromium, nodejs and npm, each only when missing (a machine may already have
#   Node.js from elsewhere; any version from Debian 12's 18 on works);
# - the npm packages pinned in tests/browser/package-lock.json, with `npm ci`;
# - schemathesis and everything it pulls in, at the versions pinned in
#   tests/fuzz/requirements.txt, in a virtual environment of its own (tests/.venv), so the
#   system's Python packages are left alone. Debian's python3-venv is installed when `python3
#   -m venv` cannot make one (Debian ships the venv module without ensurepip).
# Run it before `cargo test --workspace`, as root or with sudo. Safe to run again.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
TESTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BROWSER_DIR="$TESTS_DIR/browser"
VENV_DIR="$TESTS_DIR/.venv"

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
command -v python3 >/dev/null || missing+=(python3 python3-venv)
if ((${#missing[@]} > 0)); then
    apt_install "${missing[@]}"
fi

echo "chromium: $("$CHROMIUM" --version 2>/dev/null)"
echo "node: $(node --version), npm: $(npm --version)"

# Exactly the locked versions, from a clean node_modules; no audit or funding requests.
(cd "$BROWSER_DIR" && npm ci --no-audit --no-fund)

# A virtual environment whose Python cannot run pip is a half-made or stale one (its
# interpreter moved, say): start again.
if ! "$VENV_DIR/bin/python" -m pip --version >/dev/null 2>&1; then
    rm -rf "$VENV_DIR"
    if ! python3 -m venv "$VENV_DIR" >/dev/null 2>&1; then
        rm -rf "$VENV_DIR"
        apt_install python3-venv
        python3 -m venv "$VENV_DIR"
    fi
fi
"$VENV_DIR/bin/pip" install --quiet --disable-pip-version-check \
    --requirement "$TESTS_DIR/fuzz/requirements.txt"
echo "$("$VENV_DIR/bin/schemathesis" --version)"
