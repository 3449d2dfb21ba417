#!/usr/bin/env bash
# AgentSecurity, locally: Azurite + silo(s) + dashboard.
#
#   ./run.sh                        Azurite, one silo, the dashboard and a short demo; stays up until Ctrl-C
#   ./run.sh --detach [--silos N]   the same without the demo, in the background; returns once every silo answers;
#                                   run again, it starts only what is not running (Azurite after it died, say)
#   ./run.sh --stop                 stops what --detach started
#
# Addresses (environment variables override them): silo port AGENTSEC_SILO_PORT (11111), gateway
# AGENTSEC_GATEWAY_PORT (30000), dashboard/metrics/health AGENTSEC_HTTP_PORT (8080), Azurite blob/queue/table
# AGENTSEC_AZURITE_BLOB_PORT/_QUEUE_PORT/_TABLE_PORT (10000/10001/10002). Silo i (from 0) adds i to each silo port.
# State: .agentsec/ in the checkout (run/ with process ids and logs, operator.key and audit.key unless
# AGENTSEC_OPERATOR_KEY/AGENTSEC_AUDIT_KEY name other files, tls/) and Azurite's data in azurite/data; with
# AGENTSEC_STATE_DIR all of it goes under that folder (Azurite's data in its azurite/), so that clusters with other
# ports and state dirs run side by side from one checkout and --stop stops only that folder's cluster.
# AGENTSEC_SKIP_BUILD=1 starts the build already in the checkout (the test suite's, which a build beside it would
# rewrite under the tests that run it) and fails if there is none.
set -euo pipefail
# Before the cd below: a relative state dir is taken from where run.sh was called, as the command line takes it.
case "${AGENTSEC_STATE_DIR:-}" in
  "" | /*) ;;
  *) AGENTSEC_STATE_DIR="$PWD/$AGENTSEC_STATE_DIR" ;;
esac
cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT="$PWD"

if [ -n "${AGENTSEC_STATE_DIR:-}" ]; then
  # Exported so that the demo and every ./agentsec run from here find this cluster's key and certificates.
  export AGENTSEC_STATE_DIR
  FILES="$AGENTSEC_STATE_DIR"
  AZURITE_DATA="$AGENTSEC_STATE_DIR/azurite"
else
  FILES="$ROOT/.agentsec"
  AZURITE_DATA="azurite/data" # relative, as ever: Azurite runs from the checkout
fi
RUN_DIR="$FILES/run"
PIDS="$RUN_DIR/pids"
OPERATOR_KEY="${AGENTSEC_OPERATOR_KEY:-$FILES/operator.key}"
SILO_PORT="${AGENTSEC_SILO_PORT:-11111}"
GATEWAY_PORT="${AGENTSEC_GATEWAY_PORT:-30000}"
HTTP_PORT="${AGENTSEC_HTTP_PORT:-8080}"
BLOB_PORT="${AGENTSEC_AZURITE_BLOB_PORT:-10000}"
QUEUE_PORT="${AGENTSEC_AZURITE_QUEUE_PORT:-10001}"
TABLE_PORT="${AGENTSEC_AZURITE_TABLE_PORT:-10002}"
DEV_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
STORAGE="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$DEV_KEY;BlobEndpoint=http://127.0.0.1:$BLOB_PORT/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$QUEUE_PORT/devstoreaccount1;TableEndpoint=http://127.0.0.1:$TABLE_PORT/devstoreaccount1;"
SILO_DLL="$ROOT/src/AgentSecurity.Silo/bin/Release/net10.0/AgentSecurity.Silo.dll"

shown() { printf '%s' "${1#"$ROOT"/}"; } # a path as people read it: relative to the checkout when inside it
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what="$2"; shift 2
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || die "timed out waiting for $what"
    sleep 0.5
  done
}

require_tools() {
  command -v dotnet >/dev/null || die "the .NET 10 SDK is required (dotnet not found)"
  command -v node >/dev/null || die "Node.js is required for Azurite (node not found)"
  command -v npm >/dev/null || die "npm is required for Azurite (npm not found)"
}

install_azurite() {
  if [ ! -x azurite/node_modules/.bin/azurite ]; then
    say "Installing Azurite 3.37.0 (npm ci in azurite/)"
    (cd azurite && npm ci --no-audit --no-fund --loglevel=error)
  fi
  # The demo's MCP scene: the reference filesystem MCP server and the official TypeScript client.
  if [ ! -d mcp-servers/node_modules/@modelcontextprotocol/server-filesystem ]; then
    say "Installing the MCP servers and client (npm ci in mcp-servers/)"
    (cd mcp-servers && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# Native executions (runtime "process") run under bubblewrap and need root to give each agent a user of its own.
# Installed when missing and possible; without it the cluster runs and native executions answer "unavailable".
install_bubblewrap() {
  command -v bwrap >/dev/null && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "Installing bubblewrap (apt-get) for native executions"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap) >/dev/null || say "could not install bubblewrap: native executions will be unavailable"
  else
    say "bubblewrap is not installed (apt-get install bubblewrap, as root): native executions will be unavailable"
  fi
}

build() {
  if [ "${AGENTSEC_SKIP_BUILD:-}" = 1 ]; then
    [ -f "$SILO_DLL" ] || die "AGENTSEC_SKIP_BUILD=1, but there is no build: $(shown "$SILO_DLL") is missing"
    say "Not building (AGENTSEC_SKIP_BUILD=1): starting the current build"
    return
  fi
  say "Building the silo and the command line (Release)"
  dotnet build src/AgentSecurity.Silo/AgentSecurity.Silo.csproj -c Release -nologo -v quiet -tl:off "-clp:ErrorsOnly;NoSummary"
  dotnet build src/AgentSecurity.Cli/AgentSecurity.Cli.csproj -c Release -nologo -v quiet -tl:off "-clp:ErrorsOnly;NoSummary"
}

# The process id recorded for NAME, when that process still runs.
running_pid() {
  [ -f "$PIDS" ] || return 1
  local pid
  pid="$(awk -v name="$1" '$1 == name { pid = $2 } END { print pid }' "$PIDS")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# Records NAME's new process id, dropping an old one: a dead process's id may since belong to another process.
record_pid() {
  touch "$PIDS"
  awk -v name="$1" '$1 != name' "$PIDS" >"$PIDS.new" && mv "$PIDS.new" "$PIDS"
  echo "$1 $2" >>"$PIDS"
  STARTED+=("$1")
}

start_azurite() {
  if listening "$TABLE_PORT"; then
    say "Azurite already listens on $TABLE_PORT; using it"
    return
  fi
  say "Starting Azurite (blob $BLOB_PORT, queue $QUEUE_PORT, table $TABLE_PORT; data in $(shown "$AZURITE_DATA"))"
  mkdir -p "$AZURITE_DATA"
  # --disableTelemetry: otherwise Azurite calls out of the machine and ignores SIGTERM.
  # --skipApiVersionCheck: the current Azure SDKs send an API version Azurite 3.37 does not know.
  setsid azurite/node_modules/.bin/azurite --silent --disableTelemetry --skipApiVersionCheck \
    --blobHost 127.0.0.1 --blobPort "$BLOB_PORT" --queueHost 127.0.0.1 --queuePort "$QUEUE_PORT" \
    --tableHost 127.0.0.1 --tablePort "$TABLE_PORT" --location "$AZURITE_DATA" \
    >>"$RUN_DIR/azurite.log" 2>&1 </dev/null &
  record_pid azurite $!
  wait_for 60 "Azurite" listening "$TABLE_PORT"
}

operator_key() {
  if [ ! -f "$OPERATOR_KEY" ]; then
    say "Creating the development operator key at $(shown "$OPERATOR_KEY")"
    ./agentsec key new --out "$OPERATOR_KEY" >/dev/null
  fi
  OPERATOR_DID="$(sed -n 's/.*"did":"\([^"]*\)".*/\1/p' "$OPERATOR_KEY")"
  [ -n "$OPERATOR_DID" ] || die "cannot read the DID from $OPERATOR_KEY"
  # The cluster's own key, which signs audit checkpoints; shared by every silo.
  AUDIT_KEY="${AGENTSEC_AUDIT_KEY:-$FILES/audit.key}"
  [ -f "$AUDIT_KEY" ] || ./agentsec key new --out "$AUDIT_KEY" >/dev/null
}

# TLS even on loopback, so that the path a real deployment takes runs every day: a development CA, a silo and a
# client certificate under .agentsec/tls or $AGENTSEC_STATE_DIR/tls (kept across runs). The command line finds the client
# certificate there.
tls_files() {
  TLS_DIR="$FILES/tls"
  [ -f "$TLS_DIR/silo.crt" ] || say "Creating a development CA and certificates in $(shown "$TLS_DIR")"
  ./agentsec tls init --dir "$TLS_DIR" >/dev/null
}

start_silo() { # start_silo INDEX
  local i="$1"
  say "Starting silo $i (silo port $((SILO_PORT + i)), gateway $((GATEWAY_PORT + i)), http://127.0.0.1:$((HTTP_PORT + i)))"
  AGENTSEC_SILO_PORT=$((SILO_PORT + i)) AGENTSEC_GATEWAY_PORT=$((GATEWAY_PORT + i)) AGENTSEC_HTTP_PORT=$((HTTP_PORT + i)) \
  AGENTSEC_STORAGE="$STORAGE" AGENTSEC_OPERATOR_DID="$OPERATOR_DID" AGENTSEC_AUDIT_KEY="$AUDIT_KEY" \
  AGENTSEC_TLS_CERT="$TLS_DIR/silo.crt" AGENTSEC_TLS_KEY="$TLS_DIR/silo.key" AGENTSEC_TLS_CA="$TLS_DIR/ca.crt" \
    setsid dotnet "$SILO_DLL" >>"$RUN_DIR/silo-$i.log" 2>&1 </dev/null &
  record_pid "silo-$i" $!
}

healthy() { curl -sf "http://127.0.0.1:$1/healthz" >/dev/null 2>&1; }

stop_all() { # stop_all [NAME...]: those (default: all), silos first (newest first), Azurite last
  [ -f "$PIDS" ] || { echo "nothing to stop"; return 0; }
  tac "$PIDS" | while read -r name pid; do
    if [ "$#" -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -KILL "$pid" 2>/dev/null || true
      echo "stopped $name ($pid)"
    fi
  done
  if [ "$#" -eq 0 ]; then rm -f "$PIDS"; fi
}

any_running() {
  [ -f "$PIDS" ] || return 1
  while read -r _ pid; do kill -0 "$pid" 2>/dev/null && return 0; done <"$PIDS"
  return 1
}

start_cluster() { # start_cluster SILOS: starts what of Azurite and silos 0..SILOS-1 is not running (contracts/cli.md)
  mkdir -p "$RUN_DIR"
  STARTED=()
  # Whatever fails from here on, stop what this run started; what was already running stays.
  trap 'if [ "${#STARTED[@]}" -gt 0 ]; then stop_all "${STARTED[@]}" >/dev/null; fi' EXIT
  require_tools
  install_azurite
  install_bubblewrap
  local missing=() i
  for i in $(seq 0 $(($1 - 1))); do
    if pid="$(running_pid "silo-$i")"; then
      say "Silo $i already runs (process $pid); leaving it alone"
    else
      missing+=("$i")
    fi
  done
  if [ "${#missing[@]}" -eq "$1" ]; then
    build
  elif [ "${#missing[@]}" -gt 0 ] && [ ! -f "$SILO_DLL" ]; then
    die "silos are running but $(shown "$SILO_DLL") is missing"
  elif [ "${#missing[@]}" -gt 0 ]; then
    # A build would rewrite the files the running silos have loaded: new silos run the build those run.
    say "Not rebuilding while silos run; new silos start from the current build"
  fi
  start_azurite
  operator_key
  tls_files
  for i in "${missing[@]}"; do start_silo "$i"; done
  for i in $(seq 0 $(($1 - 1))); do
    wait_for 120 "silo $i (log: $(shown "$RUN_DIR")/silo-$i.log)" healthy $((HTTP_PORT + i))
  done
  # The demo and any command run from here act as the development operator over TLS; no client holds the storage key.
  export AGENTSEC_GATEWAY="127.0.0.1:$GATEWAY_PORT" AGENTSEC_OPERATOR_KEY="$OPERATOR_KEY"
  say "Cluster up (TLS): gateway 127.0.0.1:$GATEWAY_PORT, dashboard http://127.0.0.1:$HTTP_PORT/dashboard/, metrics http://127.0.0.1:$HTTP_PORT/metrics"
}

case "${1:-}" in
  --stop)
    stop_all
    ;;
  --detach)
    silos=1
    if [ "${2:-}" = "--silos" ]; then silos="${3:?--silos needs a number}"; fi
    [[ "$silos" =~ ^[1-9][0-9]?$ ]] || die "--silos takes 1 to 99"
    start_cluster "$silos"
    trap - EXIT
    for i in $(seq 0 $((silos - 1))); do
      echo "silo $i: gateway 127.0.0.1:$((GATEWAY_PORT + i))  dashboard http://127.0.0.1:$((HTTP_PORT + i))/dashboard/"
    done
    stop="./run.sh --stop"
    [ -z "${AGENTSEC_STATE_DIR:-}" ] || stop="AGENTSEC_STATE_DIR=$(printf %q "$AGENTSEC_STATE_DIR") $stop"
    echo "operator key: $(shown "$OPERATOR_KEY")   logs: $(shown "$RUN_DIR")/   stop: $stop"
    ;;
  "")
    if any_running; then die "already running (see $(shown "$PIDS")); ./run.sh --stop first, or ./run.sh --detach to start what is missing"; fi
    start_cluster 1
    trap 'echo; stop_all; trap - EXIT; exit 0' INT TERM
    ./deploy/demo.sh || echo "the demo failed; the cluster stays up (logs in $(shown "$RUN_DIR")/)"
    say "Dashboard: http://127.0.0.1:$HTTP_PORT/dashboard/ - Ctrl-C stops everything"
    while true; do sleep 3600 & wait $!; done
    ;;
  *)
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
