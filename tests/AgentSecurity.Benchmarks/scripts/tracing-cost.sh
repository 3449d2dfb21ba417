#!/usr/bin/env bash
# What tracing costs a check: `agentsec bench checks` against a fresh one-silo cluster with tracing off (no exporter)
# and on (OTLP/HTTP to a local sink that accepts and drops everything, sampling as shipped), alternating ROUNDS times.
#
#   tests/AgentSecurity.Benchmarks/scripts/tracing-cost.sh [ROUNDS] [SECONDS]    (default 4 rounds of 30 s)
#
# Uses the build in the checkout (./test.sh or ./run.sh builds it) and the default ports, so stop any running
# cluster first. Each run prints bench checks' JSON; compare the medians of "ratio" (checks against a trivial call on
# the same grains, in the same run), not raw throughput, which a shared machine moves between runs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
ROUNDS="${1:-4}" SECONDS_PER_RUN="${2:-30}" SINK_PORT=4318
WORK="$(mktemp -d)"

node -e '
  require("http").createServer((req, res) => { req.resume(); req.on("end", () => res.writeHead(200, {"content-type": "application/x-protobuf"}).end()); })
    .listen(Number(process.argv[1]), "127.0.0.1");' "$SINK_PORT" &
SINK=$!
trap 'kill $SINK 2>/dev/null; AGENTSEC_STATE_DIR="$WORK/state" ./run.sh --stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

for round in $(seq "$ROUNDS"); do
  for tracing in off on; do
    export AGENTSEC_STATE_DIR="$WORK/state"
    rm -rf "$AGENTSEC_STATE_DIR"
    if [ "$tracing" = on ]; then
      export OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$SINK_PORT" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
    else
      unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_PROTOCOL
    fi
    AGENTSEC_SKIP_BUILD=1 ./run.sh --detach >/dev/null
    echo "round $round tracing $tracing: $(./agentsec bench checks --seconds "$SECONDS_PER_RUN" --json)"
    ./run.sh --stop >/dev/null
  done
done
