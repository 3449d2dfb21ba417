// The official TypeScript MCP client (@modelcontextprotocol/sdk, pinned in mcp-servers/) over Streamable HTTP: connects
// to <url> with "Authorization: <authorization>" (none when empty), lists the tools and makes the calls it is given.
// Usage: node ts-http-calls.mjs <mcp-servers/node_modules> <url> <authorization> '<[{"name": ..., "arguments": {...}}, ...]>'
// Prints one JSON object: {tools, results}, or {status, error} when the endpoint refused the connection.
import { pathToFileURL } from "node:url";
import { join } from "node:path";

const [modules, url, authorization, calls] = process.argv.slice(2);
const sdk = (p) => import(pathToFileURL(join(modules, "@modelcontextprotocol/sdk/dist/esm", p)).href);
const { Client } = await sdk("client/index.js");
const { StreamableHTTPClientTransport, StreamableHTTPError } = await sdk("client/streamableHttp.js");

const headers = authorization ? { Authorization: authorization } : {};
const client = new Client({ name: "agentsec-e2e-http", version: "1.0.0" });
try {
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
} catch (e) {
  const status = e instanceof StreamableHTTPError ? e.code : null;
  console.log(JSON.stringify({ status, error: String(e?.message ?? e) }));
  process.exit(0);
}

const { tools } = await client.listTools();
const results = [];
for (const call of JSON.parse(calls)) {
  results.push(await client.callTool(call, undefined, { timeout: 60000 }));
}
console.log(JSON.stringify({ tools: tools.map((t) => t.name).sort(), results }));
await client.close();
