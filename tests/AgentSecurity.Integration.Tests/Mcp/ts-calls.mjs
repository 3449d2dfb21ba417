// The official TypeScript MCP client (@modelcontextprotocol/sdk, pinned in mcp-servers/) making the calls it is given,
// in order, through an MCP server it starts over stdio (here: `agentsec mcp serve`).
// Usage: node ts-calls.mjs <mcp-servers/node_modules> '<[{"name": ..., "arguments": {...}}, ...]>' <command> <args...>
// Prints one JSON object: the tools it sees and each call's result.
import { pathToFileURL } from "node:url";
import { join } from "node:path";

const [modules, calls, command, ...args] = process.argv.slice(2);
const sdk = (p) => import(pathToFileURL(join(modules, "@modelcontextprotocol/sdk/dist/esm", p)).href);
const { Client } = await sdk("client/index.js");
const { StdioClientTransport, getDefaultEnvironment } = await sdk("client/stdio.js");

// The stdio client's default environment is only HOME, LOGNAME, PATH, SHELL, TERM, USER: pass what agentsec needs.
const env = { ...getDefaultEnvironment() };
for (const [name, value] of Object.entries(process.env)) {
  if (name.startsWith("AGENTSEC_") || name.startsWith("DOTNET_")) env[name] = value;
}

const client = new Client({ name: "agentsec-e2e", version: "1.0.0" });
await client.connect(new StdioClientTransport({ command, args, env, stderr: "inherit" }));
const { tools } = await client.listTools();
const results = [];
for (const call of JSON.parse(calls)) {
  results.push(await client.callTool(call, undefined, { timeout: 60000 }));
}
console.log(JSON.stringify({ tools: tools.map((t) => t.name).sort(), results }));
await client.close();
