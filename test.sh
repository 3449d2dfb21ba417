#!/usr/bin/env bash
# Builds everything, packs the NuGet packages into artifacts/packages, runs every test and a short fuzz run; ends with
# "N passed, N failed, N skipped" (the fuzz run counts as one test) and exits non-zero on any failure. Installs what is
# missing (the Azurite npm package that the integration tests start; the MCP servers and TypeScript MCP client that the
# gateway's tests drive; bubblewrap, Chromium and afl++ from apt).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

command -v dotnet >/dev/null || { echo "test.sh: the .NET 10 SDK is required" >&2; exit 1; }
command -v node >/dev/null || { echo "test.sh: Node.js is required (Azurite, interop signer)" >&2; exit 1; }
if [ ! -x azurite/node_modules/.bin/azurite ]; then
  echo "==> Installing Azurite (npm ci in azurite/)"
  (cd azurite && npm ci --no-audit --no-fund --loglevel=error) || exit 1
fi
if [ ! -d mcp-servers/node_modules/@modelcontextprotocol/server-filesystem ]; then
  echo "==> Installing the MCP servers and client (npm ci in mcp-servers/)"
  (cd mcp-servers && npm ci --no-audit --no-fund --loglevel=error) || exit 1
fi

# The native sandbox's tests run bubblewrap for real (as root, which it needs).
if ! command -v bwrap >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> Installing bubblewrap (apt-get)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap) >/dev/null || exit 1
  else
    echo "test.sh: bubblewrap is required for the native sandbox's tests (apt-get install bubblewrap, as root)" >&2
    exit 1
  fi
fi

# The security console's tests drive the page in headless Chromium (Debian package chromium).
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> Installing Chromium (apt-get)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null || exit 1
  else
    echo "test.sh: Chromium is required for the security console's tests (apt-get install chromium, as root)" >&2
    exit 1
  fi
fi

# The fuzz run (tests/AgentSecurity.Fuzzing/fuzz.sh) drives afl-fuzz.
if ! command -v afl-fuzz >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> Installing afl++ (apt-get)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++) >/dev/null || exit 1
  else
    echo "test.sh: afl++ is required for the fuzz run (apt-get install afl++, as root)" >&2
    exit 1
  fi
fi

results=artifacts/test-results
rm -rf "$results"
mkdir -p "$results"

echo "==> Building (Release)"
started=$SECONDS
dotnet build Orleans.sln -c Release -nologo -v quiet -tl:off "-clp:ErrorsOnly;NoSummary" || { echo "0 passed, 1 failed (build)"; exit 1; }
echo "    built in $((SECONDS - started)) s"

# The NuGet packages of the build just made (PackagedClientTests restores an application from them).
echo "==> Packing (artifacts/packages)"
started=$SECONDS
rm -rf artifacts/packages
dotnet pack Orleans.sln -c Release --no-build -nologo -v quiet -tl:off "-clp:ErrorsOnly;NoSummary" -o artifacts/packages || { echo "0 passed, 1 failed (pack)"; exit 1; }
echo "    packed in $((SECONDS - started)) s"

echo "==> Testing"
started=$SECONDS
# The integration tests take most of the time and run one at a time (real processes on the machine's ports), so they
# start first, in the background, and every other test project, then the fuzz run below, go beside them. Their output
# is printed when they end, so that it does not interleave with the rest.
dotnet test tests/AgentSecurity.Integration.Tests/AgentSecurity.Integration.Tests.csproj -c Release --no-build -nologo -tl:off \
  --logger trx --results-directory "$results" -- RunConfiguration.TreatNoTestsAsError=true >artifacts/integration-tests.log 2>&1 &
integration=$!
# Every other project of the solution, as a solution filter made from it (a new test project joins without an edit here).
{
  printf '{ "solution": { "path": "../Orleans.sln", "projects": ['
  dotnet sln Orleans.sln list | grep '\.csproj$' | grep -v '/AgentSecurity.Integration.Tests/' | sed 's/.*/"&"/' | paste -sd, -
  printf '] } }\n'
} >artifacts/without-integration.slnf
# One project at a time (-m:1): beside the integration tests, two more at once overloaded a 2-core machine (the Sandbox
# and Grains projects both start JavaScript workers, .NET processes of ~0.4 s of CPU each; a Grains execution once
# waited over 30 s for one), and one at a time still ends well before the integration tests do.
dotnet test artifacts/without-integration.slnf -m:1 -c Release --no-build -nologo -tl:off --logger trx --results-directory "$results" -- RunConfiguration.TreatNoTestsAsError=true
status=$?
echo "    tests beside the integration tests ran in $((SECONDS - started)) s"

# A short fuzz run of each reader of outside input (a longer one: the same script with more seconds, docs/testing.md),
# while the integration tests go on.
echo "==> Fuzzing (afl-fuzz, ${AGENTSEC_FUZZ_SECONDS:-30} s per target)"
tests/AgentSecurity.Fuzzing/fuzz.sh "${AGENTSEC_FUZZ_SECONDS:-30}"
fuzz_status=$?

echo "==> Integration tests"
wait "$integration"
integration_status=$?
cat artifacts/integration-tests.log
[ "$integration_status" -eq 0 ] || status=$integration_status
echo "    tests ran in $((SECONDS - started)) s"

# Totals from the TRX files: one <Counters .../> per test project.
sum() { grep -ho "<Counters [^>]*" "$results"/*.trx 2>/dev/null | grep -o " $1=\"[0-9]*\"" | grep -o "[0-9]*" | awk '{ s += $1 } END { print s + 0 }'; }
passed=$(sum passed); failed=$(sum failed); total=$(sum total); executed=$(sum executed)
passed=${passed:-0}; failed=${failed:-0}; total=${total:-0}; executed=${executed:-0}
skipped=$((total - executed))
conformance=$(grep -ho '<UnitTestResult [^>]*testName="AgentSecurity.Grants.Tests.Vectors[^"]*"[^>]*outcome="Passed"' "$results"/*.trx 2>/dev/null | wc -l)
conformance_skipped=$(grep -ho '<UnitTestResult [^>]*testName="AgentSecurity.Grants.Tests.Vectors[^"]*"[^>]*outcome="NotExecuted"' "$results"/*.trx 2>/dev/null | wc -l)
vectors=${AGENTSEC_VECTORS:-../shared/vectors}
echo "conformance: $conformance vector cases passed, $conformance_skipped skipped (vectors: $vectors)"
if [ -d "$vectors" ] && [ -n "$(ls -A "$vectors" 2>/dev/null)" ] && [ "$conformance" -eq 0 ]; then
  echo "test.sh: the conformance vectors are in $vectors, but no vector case ran" >&2
  failed=$((failed + 1))
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi  # a crashed test host counts

# The fuzz run counts as one test.
if [ "$fuzz_status" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
