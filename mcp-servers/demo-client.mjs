// A small MCP host for the demo and docs/mcp.md: the official TypeScript client starts an MCP server over stdio (here
// `agentsec mcp serve`), prints the tools it is shown, then makes the calls it is given and prints what each returned.
//
//   node mcp-servers/demo-client.mjs '[{"name": "fs/read_text_file", "arguments": {"path": "/x"}}, ...]' COMMAND ARGS...
import { pathToFileURL, fileURLToPath } from "node:url";
import { join, dirname } from "node:path";

const modules = join(dirname(fileURLToPath(import.meta.url)), "node_modules");
const sdk = (p) => import(pathToFileURL(join(modules, "@modelcontextprotocol/sdk/dist/esm", p)).href);
const { Client } = await sdk("client/index.js");
const { StdioClientTransport, getDefaultEnvironment } = await sdk("client/stdio.js");

const [calls, command, ...args] = process.argv.slice(2);
const env = { ...getDefaultEnvironment() };
for (const [name, value] of Object.entries(process.env)) {
  if (name.startsWith("AGENTSEC_") || name.startsWith("DOTNET_")) env[name] = value;
}

const client = new Client({ name: "agentsec-demo", version: "1.0.0" });
await client.connect(new StdioClientTransport({ command, args, env, stderr: "ignore" }));
const { tools } = await client.listTools();
console.log(`the agent is shown: ${tools.map((t) => t.name).sort().join(", ")}`);
for (const call of JSON.parse(calls)) {
  const result = await client.callTool(call, undefined, { timeout: 60000 });
  const text = result.content.map((c) => c.text ?? `[${c.type}]`).join(" ").trim().replace(/\s+/g, " ");
  console.log(`${call.name} ${JSON.stringify(call.arguments)}\n    ${result.isError ? "REFUSED" : "ok"}: ${text.length > 160 ? text.slice(0, 160) + "..." : text}`);
}
await client.close();
