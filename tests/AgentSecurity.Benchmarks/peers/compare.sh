#!/usr/bin/env bash
# The peer comparison of docs/benchmarks.md, back to back on one machine: the kernel's DecisionBenchmarks
# (BenchmarkDotNet, short job) and the same decisions in Cedar and Casbin (bench.mjs), with the load average before
# each. Installs the pinned peers first (npm ci). Not part of ./test.sh or CI: figures, not tests.
#   tests/AgentSecurity.Benchmarks/peers/compare.sh [bench.mjs options]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"

[ -d "$here/node_modules" ] || (cd "$here" && npm ci --no-audit --no-fund)

echo "== kernel: DecisionBenchmarks ($(uptime | sed 's/.*load/load/'))"
(cd "$repo" && dotnet run -c Release --project tests/AgentSecurity.Benchmarks -- decisions --job short)

echo "== peers: bench.mjs ($(uptime | sed 's/.*load/load/'))"
node "$here/bench.mjs" "$@"
