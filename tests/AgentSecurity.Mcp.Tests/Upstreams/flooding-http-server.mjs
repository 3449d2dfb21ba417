// A tiny Streamable HTTP MCP server for the cases the real npm servers cannot produce: answers without end, or none.
// Its tools: `flood_events` answers with one server-sent event whose data lines never end, `flood_json` with a JSON body
// that never ends, `hang` never answers, `whoami` answers with the Authorization header it was sent, `requests` with the
// number of requests it has had by HTTP method. With a token argument, a request without `Authorization: Bearer <token>`
// is refused 401; with HANG_DELETE=1, a DELETE (the end of a session) is never answered. Listens on 127.0.0.1:$PORT and
// then prints "listening on port $PORT".
// Usage: PORT=n [HANG_DELETE=1] node flooding-http-server.mjs [token]
import { createServer } from "node:http";

const token = process.argv[2];
const tools = ["flood_events", "flood_json", "hang", "whoami", "requests"].map((name) => ({ name, description: `The ${name} tool.`, inputSchema: { type: "object" } }));

const requests = {};
const server = createServer(async (req, res) => {
  requests[req.method] = (requests[req.method] ?? 0) + 1;
  if (token && req.headers.authorization !== `Bearer ${token}`) {
    res.writeHead(401).end();
    return;
  }
  if (req.method === "DELETE") {
    if (process.env.HANG_DELETE !== "1") res.writeHead(200).end();
    return;
  }
  if (req.method !== "POST") {
    res.writeHead(405).end();
    return;
  }
  let body = "";
  for await (const chunk of req) body += chunk;
  const message = JSON.parse(body);
  const answer = (result) => {
    res.writeHead(200, { "content-type": "application/json", "mcp-session-id": "s1" });
    res.end(JSON.stringify({ jsonrpc: "2.0", id: message.id, result }));
  };
  const flood = (contentType, prefix, piece) => {
    res.writeHead(200, { "content-type": contentType, "mcp-session-id": "s1" });
    res.write(prefix);
    const write = () => { while (res.write(piece)) { } };
    res.on("drain", write);
    req.on("close", () => res.destroy());
    write();
  };
  switch (message.method) {
    case "initialize":
      answer({ protocolVersion: message.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "flooding", version: "1.0.0" } });
      return;
    case "tools/list":
      answer({ tools });
      return;
    case "tools/call":
      if (message.params.name === "whoami") {
        answer({ content: [{ type: "text", text: String(req.headers.authorization) }] });
      } else if (message.params.name === "requests") {
        answer({ content: [{ type: "text", text: JSON.stringify(requests) }] });
      } else if (message.params.name === "hang") {
        // never answered
      } else if (message.params.name === "flood_events") {
        flood("text/event-stream", "event: message\n", `data: ${"x".repeat(1000)}\n`);
      } else {
        flood("application/json", `{"jsonrpc":"2.0","id":${message.id},"result":{"content":[{"type":"text","text":"`, "y".repeat(1000));
      }
      return;
    default:
      res.writeHead(202).end();
  }
});
server.listen(Number(process.env.PORT), "127.0.0.1", () => console.log(`listening on port ${server.address().port}`));
