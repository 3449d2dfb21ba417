// Times the kernel's typical decision (DecisionBenchmarks: a write in scope, a write denied by scope) as Cedar
// (cedar-wasm) and Casbin decide it in process, after checking that every peer answers every check of
// requests.json as the kernel does. Medians of alternating rounds, in ns per decision; exit 1 on any other answer.
//   node bench.mjs [--rounds N] [--round-ms MS] [--warmup-ms MS] [--json]
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { cedarPeer } from './cedar-peer.mjs';
import { casbinPeer } from './casbin-peer.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const rounds = option('--rounds', 15);
const roundMs = option('--round-ms', 40);
const warmupMs = option('--warmup-ms', 1500);
const asJson = args.includes('--json');

const { grant, requests, differences } = JSON.parse(readFileSync(new URL('./requests.json', import.meta.url), 'utf8'));
const clockSkewSeconds = 60; // DocumentChecks.DefaultClockSkew
const issuedAt = 1767225600; // a fixed instant: the answers must not depend on when the script runs
const checkedAt = (request) => issuedAt + (request.atSeconds ?? 60); // TypicalGrant: issued a minute before the check

const cedar = cedarPeer(grant, issuedAt, clockSkewSeconds);
const casbin = await casbinPeer(grant, issuedAt, clockSkewSeconds);
const deciders = {
  // What the harness itself costs: a call that compares the capability and nothing else.
  'harness (baseline)': (request) => request.capability === 'fileSystem:write' && request.resource !== '/etc/passwd',
  'cedar-wasm isAuthorized': cedar.parsedEachCall,
  'cedar-wasm statefulIsAuthorized': cedar.preparsed,
  'casbin enforceSync': casbin.decide,
};

const wrong = [];
for (const request of requests) {
  for (const [name, decide] of Object.entries(deciders)) {
    if (name.startsWith('harness')) continue;
    let answer;
    try {
      answer = decide(request, checkedAt(request));
    } catch (error) {
      answer = `error: ${error.message}`;
    }
    if (answer !== request.allowed) {
      wrong.push(`${name}: ${request.name} (${request.capability} ${request.resource ?? ''}) answered ${answer}, the kernel ${request.allowed} (${request.reason})`);
    }
  }
}
if (wrong.length > 0) {
  console.error(`peers disagree with the kernel:\n  ${wrong.join('\n  ')}`);
  process.exit(1);
}

// Where the peers' text matchers and the kernel's normal form part: shown, not held to the kernel's answer.
const differs = differences.requests.map((request) => ({
  request: request.name,
  resource: request.resource,
  kernel: request.allowed ? 'allow' : `deny (${request.reason})`,
  ...Object.fromEntries(Object.entries(deciders).filter(([name]) => !name.startsWith('harness'))
    .map(([name, decide]) => [name, decide(request, checkedAt(request)) ? 'allow' : 'deny'])),
}));

const timed = requests.filter((r) => r.timed);

// Runs `count` decisions and checks every answer, so the work cannot be skipped and a wrong answer stops the run.
function run(decide, request, count) {
  const now = checkedAt(request);
  let agreed = 0;
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    if (decide(request, now) === request.allowed) agreed++;
  }
  const elapsed = process.hrtime.bigint() - start;
  const cpu = process.cpuUsage(cpuStart);
  if (agreed !== count) {
    console.error(`${request.name}: ${count - agreed} of ${count} answers differ from the kernel's`);
    process.exit(1);
  }
  return { wallNs: Number(elapsed) / count, cpuNs: ((cpu.user + cpu.system) * 1000) / count };
}

// Warm-up: cedar-wasm's calls take thousands of calls to reach their steady cost (V8's Wasm and JS tiers), so each
// decider runs for warmupMs of its own CPU time first. Then a count per round that takes about roundMs.
const counts = new Map();
for (const [name, decide] of Object.entries(deciders)) {
  for (const request of timed) {
    const cpuStart = process.cpuUsage();
    for (;;) {
      run(decide, request, 256);
      const cpu = process.cpuUsage(cpuStart);
      if (cpu.user + cpu.system >= warmupMs * 1000) break;
    }
    let count = 64;
    for (;;) {
      const { wallNs } = run(decide, request, count);
      if (wallNs * count >= roundMs * 1e6) break;
      count *= 2;
    }
    counts.set(`${name}|${request.name}`, count);
  }
}

const samples = new Map([...counts.keys()].map((key) => [key, []]));
const loadBefore = os.loadavg();
for (let round = 0; round < rounds; round++) {
  const keys = [...counts.keys()];
  if (round % 2 === 1) keys.reverse(); // drift in the machine's load falls on each kind alike
  for (const key of keys) {
    const [name, requestName] = key.split('|');
    samples.get(key).push(run(deciders[name], timed.find((r) => r.name === requestName), counts.get(key)));
  }
}
const loadAfter = os.loadavg();

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const results = [...samples.entries()].map(([key, values]) => {
  const [decider, request] = key.split('|');
  const wall = values.map((v) => v.wallNs);
  return {
    decider,
    request,
    medianNs: median(wall),
    minNs: Math.min(...wall),
    maxNs: Math.max(...wall),
    medianCpuNs: median(values.map((v) => v.cpuNs)),
    perRound: counts.get(key),
  };
});
const machine = {
  node: process.version,
  cedar: cedar.version,
  casbin: JSON.parse(readFileSync(new URL('./node_modules/casbin/package.json', import.meta.url), 'utf8')).version,
  cpus: os.cpus().length,
  loadAverage: { before: loadBefore.map((l) => l.toFixed(2)), after: loadAfter.map((l) => l.toFixed(2)) },
};

if (asJson) {
  console.log(JSON.stringify({ machine, rounds, checks: requests.length, results, differences: differs }, null, 2));
} else {
  console.log(`${requests.length} checks answered as the kernel answers them by each peer`);
  console.log(`node ${machine.node}, cedar ${machine.cedar}, casbin ${machine.casbin}, ${machine.cpus} cpus, load ${machine.loadAverage.before.join(' ')} -> ${machine.loadAverage.after.join(' ')}`);
  console.log(`${rounds} rounds, medians in ns per decision: wall clock (min..max of the rounds), and the process's CPU time`);
  console.log('| decider | request | median ns | min..max ns | CPU ns |');
  console.log('|---|---|---:|---|---:|');
  for (const r of results) {
    console.log(`| ${r.decider} | ${r.request} | ${r.medianNs.toFixed(0)} | ${r.minNs.toFixed(0)}..${r.maxNs.toFixed(0)} | ${r.medianCpuNs.toFixed(0)} |`);
  }
  console.log('where they differ (not held to the kernel\'s answers):');
  const columns = Object.keys(differs[0]);
  console.log(`| ${columns.join(' | ')} |`);
  console.log(`|${columns.map(() => '---').join('|')}|`);
  for (const d of differs) console.log(`| ${columns.map((c) => d[c]).join(' | ')} |`);
}
