// What the gateway adds to a tools/call: the official TypeScript client calls a tool of the filesystem server
// (read_text_file of FILE, or TOOL with {path: FILE}, e.g. directory_tree of a folder) directly and through
// `agentsec mcp serve`, one call at a time, in alternating rounds of the same run (a noisy machine slows both alike).
// Prints medians and p99s in milliseconds and the added latency at the median.
//
//   node mcp-servers/bench-gateway.mjs FILE CALLS [TOOL] -- DIRECT_COMMAND... -- GATEWAY_COMMAND...
import { pathToFileURL } from "node:url";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const modules = join(dirname(fileURLToPath(import.meta.url)), "node_modules");
const sdk = (p) => import(pathToFileURL(join(modules, "@modelcontextprotocol/sdk/dist/esm", p)).href);
const { Client } = await sdk("client/index.js");
const { StdioClientTransport, getDefaultEnvironment } = await sdk("client/stdio.js");

const argv = process.argv.slice(2);
const [file, callsText] = argv;
const split = argv.indexOf("--", 2);
const tool = split > 2 ? argv[2] : "read_text_file";
const second = argv.indexOf("--", split + 1);
const direct = argv.slice(split + 1, second);
const gateway = argv.slice(second + 1);
const calls = Number(callsText);
const rounds = 10;

const env = { ...getDefaultEnvironment() };
for (const [name, value] of Object.entries(process.env)) {
  if (name.startsWith("AGENTSEC_") || name.startsWith("DOTNET_")) env[name] = value;
}

async function connect([command, ...args]) {
  const client = new Client({ name: "agentsec-bench", version: "1.0.0" });
  await client.connect(new StdioClientTransport({ command, args, env, stderr: "ignore" }));
  return client;
}

async function round(client, tool, samples) {
  for (let i = 0; i < calls; i++) {
    const started = process.hrtime.bigint();
    const result = await client.callTool({ name: tool, arguments: { path: file } });
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (result.isError) throw new Error(`${tool}: ${JSON.stringify(result.content)}`);
  }
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

const directClient = await connect(direct);
const gatewayClient = await connect(gateway);
const directSamples = [];
const gatewaySamples = [];
await round(directClient, tool, []); // warm both before measuring
await round(gatewayClient, "fs/" + tool, []);
for (let r = 0; r < rounds; r++) {
  await round(directClient, tool, directSamples);
  await round(gatewayClient, "fs/" + tool, gatewaySamples);
}

const summary = {
  tool,
  calls: directSamples.length,
  directP50Ms: percentile(directSamples, 50),
  directP99Ms: percentile(directSamples, 99),
  gatewayP50Ms: percentile(gatewaySamples, 50),
  gatewayP99Ms: percentile(gatewaySamples, 99),
};
summary.addedP50Ms = summary.gatewayP50Ms - summary.directP50Ms;
console.log(JSON.stringify(summary, (_, v) => (typeof v === "number" && !Number.isInteger(v) ? Number(v.toFixed(3)) : v)));
await directClient.close();
await gatewayClient.close();
