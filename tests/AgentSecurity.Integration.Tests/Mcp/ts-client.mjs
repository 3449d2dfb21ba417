// The official TypeScript MCP client (@modelcontextprotocol/sdk, pinned in mcp-servers/) driving `agentsec mcp serve`
// over stdio, as any MCP host would.
// Usage: node ts-client.mjs <mcp-servers/node_modules> <allowed file> <file outside the scope> <command> <args...>
// Prints one JSON object: the tools it sees and the results of an allowed read, a read outside the scope and a
// hidden tool called by name.
import { pathToFileURL } from "node:url";
import { join } from "node:path";

const [modules, allowed, outside, command, ...args] = process.argv.slice(2);
const sdk = (p) => import(pathToFileURL(join(modules, "@modelcontextprotocol/sdk/dist/esm", p)).href);
const { Client } = await sdk("client/index.js");
const { StdioClientTransport, getDefaultEnvironment } = await sdk("client/stdio.js");

// The stdio client's default environment is only HOME, LOGNAME, PATH, SHELL, TERM, USER: pass what agentsec needs.
const env = { ...getDefaultEnvironment() };
for (const [name, value] of Object.entries(process.env)) {
  if (name.startsWith("AGENTSEC_") || name.startsWith("DOTNET_")) env[name] = value;
}

const transport = new StdioClientTransport({ command, args, env, stderr: "inherit" });
const client = new Client({ name: "agentsec-e2e", version: "1.0.0" });
await client.connect(transport);
const { tools } = await client.listTools();
const call = (name, args) => client.callTool({ name, arguments: args }, undefined, { timeout: 60000 });
const inScope = await call("fs/read_text_file", { path: allowed });
const outsideScope = await call("fs/read_text_file", { path: outside });
const hidden = await call("fs/write_file", { path: allowed, content: "overwritten" });
console.log(JSON.stringify({ tools: tools.map((t) => t.name).sort(), inScope, outsideScope, hidden }));
await client.close();
