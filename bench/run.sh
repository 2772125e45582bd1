#!/usr/bin/env bash
# Throughput, latency and memory of a release build of Tessera, on loopback, against a throwaway
# PostgreSQL database. What is measured and why is in bench/README.md.
#
#   bash bench/run.sh              # Tessera only
#   BENCH_PEER=1 bash bench/run.sh # also node-oidc-provider, for a reference point
#   BENCH_BIN=/path/to/tessera bash bench/run.sh  # a binary built elsewhere, e.g. another commit
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$BENCH_DIR")

# The load is the same for every endpoint and for both servers, so rows can be compared.
THREADS=2
CONNECTIONS=32
DURATION=${BENCH_DURATION:-10s}

PG_HOST=127.0.0.1
PG_PORT=5432
PG_USER=postgres
DB_NAME=tessera_bench

PORT=18080
ISSUER="http://127.0.0.1:$PORT"
# Port 9 (discard) on loopback: nothing answers, and the login driver never follows it anyway.
REDIRECT_URI="http://127.0.0.1:9/cb"

PEER_PORT=18081
PEER_URL="http://127.0.0.1:$PEER_PORT"
PEER_VERSION=9.13.3

READY_SECONDS=30
STOP_SECONDS=10

OUT_DIR="$BENCH_DIR/out/$(date -u +%Y%m%dT%H%M%SZ)"
SUMMARY="$OUT_DIR/summary.txt"

# Set as things start, so the exit trap undoes exactly what was done.
SERVER_PID=""
PEER_PID=""
WRK_PID=""
DB_CREATED=""
WORK_DIR=""

log() {
    printf '==> %s\n' "$*" >&2
}

die() {
    printf 'bench: %s\n' "$*" >&2
    exit 1
}

# Installs a missing tool from apt when running as root; otherwise says what to install.
need() {
    local command=$1 package=$2
    if command -v "$command" >/dev/null; then
        return 0
    fi
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
        die "$command is missing; install the $package package"
    fi
    log "installing $package"
    local apt_log="$OUT_DIR/apt.log"
    if ! { apt-get update && apt-get install -y --no-install-recommends "$package"; } \
        >"$apt_log" 2>&1; then
        cat "$apt_log" >&2
        die "apt-get could not install $package"
    fi
}

psql_admin() {
    PGOPTIONS="-c client_min_messages=warning" psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -v ON_ERROR_STOP=1 -q "$@"
}

# TERM, then a bounded wait, then KILL: a wedged server must not hang the benchmark.
stop_process() {
    local pid=$1 waited=0
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null && ((waited < STOP_SECONDS * 10)); do
        sleep 0.1
        waited=$((waited + 1))
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$?
    if [[ -n $WRK_PID ]]; then
        stop_process "$WRK_PID"
    fi
    if [[ -n $PEER_PID ]]; then
        stop_process "$PEER_PID"
    fi
    if [[ -n $SERVER_PID ]]; then
        stop_process "$SERVER_PID"
    fi
    if [[ -n $DB_CREATED ]]; then
        psql_admin -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" ||
            printf 'bench: could not drop database %s\n' "$DB_NAME" >&2
    fi
    if [[ -n $WORK_DIR ]]; then
        rm -rf "$WORK_DIR"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Another process on our port would be benchmarked in our place, and another run of this script
# would have its database dropped under it; refuse instead, before touching anything.
require_free_port() {
    local url=$1
    if curl -s -o /dev/null --max-time 2 "$url/"; then
        die "something already answers on $url; stop it first"
    fi
}

# Polls until the URL answers 200, while the process is alive, for at most READY_SECONDS.
wait_ready() {
    local pid=$1 url=$2 log_file=$3 tries=0
    until curl -fs -o /dev/null --max-time 2 "$url"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$log_file" >&2
            die "the server exited before answering $url (log: $log_file)"
        fi
        if ((tries >= READY_SECONDS * 2)); then
            tail -n 30 "$log_file" >&2
            die "no answer from $url after ${READY_SECONDS}s (log: $log_file)"
        fi
        sleep 0.5
        tries=$((tries + 1))
    done
}

rss_kib() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

mib() {
    awk -v kib="$1" 'BEGIN { printf "%.1f", kib / 1024 }'
}

# Prints "requests/s p50 p99 errors" from wrk's --latency output. Errors are responses outside
# 2xx/3xx plus socket errors: a fast error page must not pass for a fast endpoint.
read_wrk() {
    awk '
        /^Requests\/sec:/ { rps = $2 }
        $1 == "50%" { p50 = $2 }
        $1 == "99%" { p99 = $2 }
        /Non-2xx or 3xx responses:/ { errors += $NF }
        /Socket errors:/ { gsub(",", ""); errors += $4 + $6 + $8 + $10 }
        END { printf "%s %s %s %d\n", rps, p50, p99, errors }
    ' "$1"
}

row() {
    printf '%-8s %-10s %12s %10s %10s %8s %14s\n' "$@" | tee -a "$SUMMARY"
}

# One wrk run; extra wrk arguments (a script) go before the URL. Adds a row to the summary.
load() {
    local server=$1 name=$2 pid=$3 url=$4
    shift 4
    local result="$OUT_DIR/$server-$name.txt"

    log "$server $name: wrk -t$THREADS -c$CONNECTIONS -d$DURATION $url"
    # In the background and waited for: wrk treats Ctrl-C as "stop and report" and exits 0, and
    # bash would then carry on with the next run. `wait` lets the INT trap end the benchmark.
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" >"$result" &
    WRK_PID=$!
    wait "$WRK_PID"
    WRK_PID=""

    local rps p50 p99 errors
    read -r rps p50 p99 errors < <(read_wrk "$result")
    RESULTS+=("$server $name $rps $p50 $p99 $errors $(mib "$(rss_kib "$pid")")")
}

# Seeds a user and a first-party client with the CLI, logs in, and prints an access token.
access_token() {
    local password client client_id client_secret
    password=$(head -c 18 /dev/urandom | base64)

    printf '%s\n' "$password" |
        "$BIN" user create --username bench --email bench@example.com --password-stdin \
            >>"$OUT_DIR/cli.log"

    client=$("$BIN" client create --name bench --redirect-uri "$REDIRECT_URI" --first-party)
    client_id=$(awk '$1 == "client_id:" { print $2 }' <<<"$client")
    client_secret=$(awk '$1 == "client_secret:" { print $2 }' <<<"$client")
    [[ -n $client_id && -n $client_secret ]] ||
        die "tessera client create printed no client_id/client_secret"

    BENCH_CLIENT_SECRET=$client_secret BENCH_PASSWORD=$password \
        python3 "$BENCH_DIR/get_token.py" --issuer "$ISSUER" --client-id="$client_id" \
        --redirect-uri "$REDIRECT_URI" --username bench
}

bench_tessera() {
    # BENCH_BIN names a release binary built elsewhere (another commit, to compare); without
    # it, this checkout is built.
    if [[ -n ${BENCH_BIN:-} ]]; then
        BIN=$BENCH_BIN
    else
        log "building"
        (cd "$REPO_DIR" && cargo build --release -p tessera)
        BIN="$REPO_DIR/target/release/tessera"
    fi

    log "database $DB_NAME on $PG_HOST:$PG_PORT"
    psql_admin -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)"
    psql_admin -c "CREATE DATABASE $DB_NAME"
    DB_CREATED=1

    # Exported rather than passed on command lines, so the key never shows in `ps`; the CLI
    # commands below read the same settings as the server.
    export TESSERA_DATABASE_URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$DB_NAME"
    export TESSERA_LISTEN="127.0.0.1:$PORT"
    export TESSERA_ISSUER="$ISSUER"
    TESSERA_KEY_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)
    export TESSERA_KEY_ENCRYPTION_KEY

    # The server gets an empty working directory, so nothing in the checkout can influence it.
    WORK_DIR=$(mktemp -d /tmp/tessera-bench.XXXXXX)
    cd "$WORK_DIR"

    # Only if the binary has a separate migrate command; otherwise serve is expected to migrate.
    if "$BIN" help migrate >/dev/null 2>&1; then
        "$BIN" migrate >>"$OUT_DIR/cli.log" 2>&1
    fi

    log "starting tessera on $ISSUER"
    "$BIN" serve >"$OUT_DIR/tessera.log" 2>&1 &
    SERVER_PID=$!
    wait_ready "$SERVER_PID" "$ISSUER/.well-known/openid-configuration" "$OUT_DIR/tessera.log"
    TESSERA_IDLE_KIB=$(rss_kib "$SERVER_PID")

    log "logging in for an access token"
    BENCH_ACCESS_TOKEN=$(access_token)
    export BENCH_ACCESS_TOKEN
    # A rejected token would make the userinfo row measure 401s; check once before the load.
    curl -fsS -o /dev/null --max-time 5 -H "@-" "$ISSUER/userinfo" \
        <<<"Authorization: Bearer $BENCH_ACCESS_TOKEN" ||
        die "userinfo refused the benchmark's access token"

    load tessera discovery "$SERVER_PID" "$ISSUER/.well-known/openid-configuration"
    load tessera jwks "$SERVER_PID" "$ISSUER/jwks"
    load tessera userinfo "$SERVER_PID" "$ISSUER/userinfo" -s "$BENCH_DIR/bearer.lua"

    # The token endpoint through the one grant that can be repeated: client credentials. Each
    # request authenticates the client, signs an access token and records it.
    local service service_id service_secret
    service=$("$BIN" client create --name bench-service --grant-type client_credentials \
        --scope bench.read)
    service_id=$(awk '$1 == "client_id:" { print $2 }' <<<"$service")
    service_secret=$(awk '$1 == "client_secret:" { print $2 }' <<<"$service")
    BENCH_BASIC_CREDENTIALS=$(printf '%s:%s' "$service_id" "$service_secret" | base64 -w0)
    export BENCH_BASIC_CREDENTIALS
    load tessera cc-token "$SERVER_PID" "$ISSUER/token" -s "$BENCH_DIR/client_credentials.lua"
}

bench_peer() {
    # Not installed from apt: Debian 12's Node.js is older than oidc-provider supports.
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        die "BENCH_PEER=1 needs node and npm (Node.js 22 LTS is what oidc-provider supports)"
    fi

    local installed=""
    if [[ -f $BENCH_DIR/peer/node_modules/oidc-provider/package.json ]]; then
        installed=$(node -p 'require(process.argv[1]).version' \
            "$BENCH_DIR/peer/node_modules/oidc-provider/package.json")
    fi
    if [[ $installed != "$PEER_VERSION" ]]; then
        log "installing oidc-provider@$PEER_VERSION into bench/peer/node_modules"
        npm ci --prefix "$BENCH_DIR/peer" --no-audit --no-fund >"$OUT_DIR/npm.log" 2>&1 ||
            { cat "$OUT_DIR/npm.log" >&2; die "npm ci failed"; }
    fi

    local peer_secret
    peer_secret=$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')
    log "starting node-oidc-provider on $PEER_URL"
    (cd "$BENCH_DIR/peer" && PEER_PORT=$PEER_PORT PEER_CLIENT_SECRET=$peer_secret exec node server.mjs) \
        >"$OUT_DIR/peer.log" 2>&1 &
    PEER_PID=$!
    wait_ready "$PEER_PID" "$PEER_URL/.well-known/openid-configuration" "$OUT_DIR/peer.log"
    PEER_IDLE_KIB=$(rss_kib "$PEER_PID")

    load peer discovery "$PEER_PID" "$PEER_URL/.well-known/openid-configuration"
    load peer jwks "$PEER_PID" "$PEER_URL/jwks"
    BENCH_BASIC_CREDENTIALS=$(printf 'bench:%s' "$peer_secret" | base64 -w0)
    export BENCH_BASIC_CREDENTIALS
    load peer cc-token "$PEER_PID" "$PEER_URL/token" -s "$BENCH_DIR/client_credentials.lua"
}

print_summary() {
    {
        echo
        echo "commit $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)," \
            "$(nproc) cores, wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
        echo "tessera idle RSS: $(mib "$TESSERA_IDLE_KIB") MiB"
        if [[ -n ${PEER_IDLE_KIB:-} ]]; then
            echo "peer idle RSS:    $(mib "$PEER_IDLE_KIB") MiB" \
                "(node-oidc-provider $PEER_VERSION, node $(node --version))"
        fi
        echo
    } | tee -a "$SUMMARY"

    row server endpoint requests/s p50 p99 errors "RSS after MiB"
    local result
    for result in "${RESULTS[@]}"; do
        # shellcheck disable=SC2086 # the fields are split on purpose
        row $result
    done
    echo "(raw wrk output in $OUT_DIR)" | tee -a "$SUMMARY"
}

main() {
    mkdir -p "$OUT_DIR"
    need curl curl
    need wrk wrk
    need psql postgresql-client
    need python3 python3
    RESULTS=()

    require_free_port "$ISSUER"
    if [[ ${BENCH_PEER:-0} == 1 ]]; then
        require_free_port "$PEER_URL"
    fi

    bench_tessera
    if [[ ${BENCH_PEER:-0} == 1 ]]; then
        bench_peer
    fi
    print_summary
}

main "$@"
