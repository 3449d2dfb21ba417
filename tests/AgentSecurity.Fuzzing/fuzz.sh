#!/usr/bin/env bash
# Fuzzes the kernel's readers of outside input under afl-fuzz, each target for SECONDS: publishes
# tests/AgentSecurity.Fuzzing, instruments the kernel's assemblies with SharpFuzz (a local dotnet tool), and runs
# afl-fuzz from Inputs/TARGET. Every crash found is copied to Inputs/TARGET/crashes, where the replay tests keep it
# (fix the reader, keep the input); the run then exits 1. Prints one line per target: executions, corpus, crashes.
#   tests/AgentSecurity.Fuzzing/fuzz.sh SECONDS [TARGET ...]      targets: documents events host-calls (default: all)
# ./test.sh runs it briefly; a longer run (an hour each, say) is the same command with a larger SECONDS.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
seconds=${1:?usage: fuzz.sh SECONDS [TARGET ...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(documents events host-calls)
command -v afl-fuzz >/dev/null || { echo "fuzz.sh: afl-fuzz is required (apt-get install afl++)" >&2; exit 1; }

work=../../artifacts/fuzz
rm -rf "$work" && mkdir -p "$work"
dotnet publish AgentSecurity.Fuzzing.csproj -c Release -o "$work/bin" -nologo -v quiet -tl:off "-clp:ErrorsOnly;NoSummary" >/dev/null || exit 1
(cd ../.. && dotnet tool restore >/dev/null) || exit 1
for assembly in AgentSecurity.Grants AgentSecurity.Abstractions AgentSecurity.Sandbox; do
  (cd ../.. && dotnet sharpfuzz "artifacts/fuzz/bin/$assembly.dll" >/dev/null) || { echo "fuzz.sh: could not instrument $assembly" >&2; exit 1; }
done

# dotnet is not an AFL-instrumented binary (the assemblies are), and a CI machine's core pattern and CPU governor are not ours.
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_QUIET=1
status=0
for target in "${targets[@]}"; do
  out="$work/out-$target"
  afl-fuzz -V "$seconds" -i "Inputs/$target/seeds" -o "$out" -t 5000 -m none -- dotnet "$work/bin/AgentSecurity.Fuzzing.dll" "$target" >"$work/$target.log" 2>&1
  stats="$out/default/fuzzer_stats"
  [ -f "$stats" ] || { echo "fuzz $target: afl-fuzz did not run (see artifacts/fuzz/$target.log)"; tail -5 "$work/$target.log"; status=1; continue; }
  value() { grep "^$1 " "$stats" | awk '{ print $3 }'; }
  crashes=$(find "$out/default/crashes" -type f -name 'id:*' 2>/dev/null | wc -l)
  echo "fuzz $target: $(value execs_done) executions in $(value run_time) s, corpus $(value corpus_count), $crashes crashes"
  if [ "$crashes" -gt 0 ]; then
    mkdir -p "Inputs/$target/crashes"
    for crash in "$out"/default/crashes/id:*; do
      cp "$crash" "Inputs/$target/crashes/$(sha256sum "$crash" | cut -c1-16)"
    done
    echo "  kept in tests/AgentSecurity.Fuzzing/Inputs/$target/crashes: fix the reader, keep the inputs"
    status=1
  fi
done
exit $status
