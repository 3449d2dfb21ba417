#!/usr/bin/env bash
# The short demo that ./run.sh plays against the running cluster: a tenant, a signed grant, checks that are
# allowed and denied with their reasons, grants the cluster refuses, agent code in each sandbox, and an MCP client whose
# tool calls go through the agent's grain (agentsec mcp serve). Needs AGENTSEC_GATEWAY and
# AGENTSEC_OPERATOR_KEY (./run.sh sets both); its keys and files go to demo/ in AGENTSEC_STATE_DIR, else in .agentsec.
set -euo pipefail
# Before the cd below: a relative state dir is taken from where the demo was called, as ./run.sh takes it.
case "${AGENTSEC_STATE_DIR:-}" in
  "" | /*) ;;
  *) export AGENTSEC_STATE_DIR="$PWD/$AGENTSEC_STATE_DIR" ;;
esac
cd "$(dirname "${BASH_SOURCE[0]}")/.."
demo="${AGENTSEC_STATE_DIR:-.agentsec}/demo"
mkdir -p "$demo"

step() { printf '\n\033[1;36m--- %s\033[0m\n' "$*"; }
show() { printf '\033[2m$ agentsec %s\033[0m\n' "$*"; ./agentsec "$@" || true; }
did_of() { sed -n 's/.*"did":"\([^"]*\)".*/\1/p' "$1"; }

[ -f "$demo/root.key" ] || ./agentsec key new --out "$demo/root.key" >/dev/null
[ -f "$demo/stranger.key" ] || ./agentsec key new --out "$demo/stranger.key" >/dev/null
root="$(did_of "$demo/root.key")"

step "The operator creates tenant 'demo' whose root is $root"
./agentsec tenant create demo --root "$root" --operator-key "$AGENTSEC_OPERATOR_KEY" 2>/dev/null \
  || echo "(tenant demo exists from an earlier run; it keeps its root)"

step "The tenant's root signs a grant for demo/researcher, offline"
show grant sign --key "$demo/root.key" --tenant demo --agent researcher \
  --fs write --scope fileSystem=/workspace/** --net outbound --scope 'network=*.example.com:443' \
  --memory read --llm --expires-in 1h --out "$demo/researcher.grant.json"
show grant verify "$demo/researcher.grant.json" --trusted "$root"

step "The grant is applied: the agent grain asks the tenant's issuer grain to verify it, then keeps it"
show grant apply "$demo/researcher.grant.json"

step "Checks, decided from the agent grain's memory"
show check demo/researcher fileSystem:write --resource /workspace/report.md
show check demo/researcher network:outbound --resource api.example.com:443
show check demo/researcher llm
show check demo/researcher fileSystem:read --resource /etc/shadow
show check demo/researcher fileSystem:read --resource /workspace/../etc/shadow
show check demo/researcher network:outbound --resource evil.example.net:443
show check demo/researcher subprocess
show check demo/researcher fileSystem:delete --resource /workspace/report.md
show check demo/intruder fileSystem:read --resource /workspace/report.md

step "Grants the cluster refuses; the researcher's grant stays in force"
sed 's/"fileSystem":"write"/"fileSystem":"full"/' "$demo/researcher.grant.json" >"$demo/tampered.grant.json"
printf 'fileSystem widened to "full" after signing:\n'
show grant apply "$demo/tampered.grant.json"
./agentsec grant sign --key "$demo/stranger.key" --tenant demo --agent researcher --fs full --out "$demo/stranger.grant.json" >/dev/null
printf 'signed by a key that is not a root of the tenant:\n'
show grant apply "$demo/stranger.grant.json"
./agentsec grant sign --key "$demo/root.key" --tenant demo --agent researcher --fs read \
  --issued-at "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" --out "$demo/older.grant.json" >/dev/null
printf 'older than the active grant:\n'
show grant apply "$demo/older.grant.json"
show check demo/researcher fileSystem:delete --resource /workspace/report.md
show status demo/researcher

step "Agent code in sandboxes: every host call it makes is a check on its agent's grain"
./agentsec grant sign --key "$demo/root.key" --tenant demo --agent builder \
  --fs write --scope fileSystem=/workspace/** --memory write --scope memory=notes/** \
  --isolation native --subprocess --expires-in 1h --out "$demo/builder.grant.json" >/dev/null
show grant apply "$demo/builder.grant.json"
printf 'JavaScript (Jint): counts words, keeps a total in its memory, writes a report, is denied /etc/passwd:\n'
show run demo/builder --runtime js docs/examples/word-count.js --input "the quick brown fox"
printf 'WebAssembly (Wasmtime), written in WAT: stores its input through the host API:\n'
show run demo/builder --runtime wasm docs/examples/store-input.wat --input "kept by a WebAssembly module"
printf 'a native process under bubblewrap, as a user of its own, talking to the host over a socket:\n'
show run demo/builder --runtime process docs/examples/count-lines.sh --input "$(printf 'one\ntwo\nthree\n')"
echo 'for (;;) {}' >"$demo/loop.js"
printf 'an infinite loop, ended by its CPU budget:\n'
show run demo/builder --runtime js "$demo/loop.js"
printf 'the researcher'"'"'s grant is sandboxed: no native processes for it:\n'
show run demo/researcher --runtime process docs/examples/count-lines.sh

step "Tools: an MCP client sees only the tools the grant gives, and every call is checked by the agent's grain"
files="$(cd "$demo" && pwd)/files"
mkdir -p "$files/public" "$files/hr" && echo "quarterly numbers: up" >"$files/public/report.txt" && echo "salaries" >"$files/private.txt"
echo "names" >"$files/hr/layoffs-2027.txt"
show grant sign --key "$demo/root.key" --tenant demo --agent assistant --fs write --scope "fileSystem=$files/public/**" \
  --scope "fileSystem=$files/public" --scope "fileSystem=$files" --tool fs/read_text_file --tool fs/list_directory \
  --tool fs/directory_tree --tool fs/write_file --approve 'fs/write_*' --expires-in 1h --out "$demo/assistant.grant.json"
show grant apply "$demo/assistant.grant.json"
filesystem="node $PWD/mcp-servers/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js $files"
calls='[{"name":"fs/read_text_file","arguments":{"path":"'"$files"'/public/report.txt"}},
        {"name":"fs/directory_tree","arguments":{"path":"'"$files"'"}},
        {"name":"fs/read_text_file","arguments":{"path":"'"$files"'/private.txt"}},
        {"name":"fs/move_file","arguments":{"source":"'"$files"'/private.txt","destination":"'"$files"'/public/x.txt"}},
        {"name":"fs/write_file","arguments":{"path":"'"$files"'/public/summary.txt","content":"up"}}]'
printf '\033[2m$ node mcp-servers/demo-client.mjs CALLS ./agentsec mcp serve demo/assistant --upstream "fs=%s"\033[0m\n' "$filesystem"
node mcp-servers/demo-client.mjs "$calls" ./agentsec mcp serve demo/assistant --upstream "fs=$filesystem" || true
request="$(./agentsec requests list demo --json | node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")).requests
  .find((q) => q.status === "pending" && q.resource === "fs/write_file"); process.stdout.write(r ? r.requestId : "")')"
printf 'the root approves the write (a grant naming exactly fs/write_file, for 10 minutes), and the same call goes through:\n'
show requests approve demo "$request" --key "$demo/root.key" --expires-in 10m
node mcp-servers/demo-client.mjs '[{"name":"fs/write_file","arguments":{"path":"'"$files"'/public/summary.txt","content":"up"}}]' \
  ./agentsec mcp serve demo/assistant --upstream "fs=$filesystem" || true

step "The tenant's audit log: every decision and change, hash-chained in Azure Table storage"
sleep 2 # allowed checks are summarised per second; the stream delivers within a fraction of one
show audit tail demo --last 20
show audit verify demo
