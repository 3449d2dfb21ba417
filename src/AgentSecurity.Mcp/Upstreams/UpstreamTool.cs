using System.Text.Json.Nodes;

namespace AgentSecurity.Mcp.Upstreams;

/// <summary>A tool as its upstream first listed it: its own name, the definition's hash and the raw definition.</summary>
/// <param name="Name">The upstream's own name for it (<c>read_text_file</c>).</param>
/// <param name="Hash">The pin hash of <paramref name="Definition"/> (<c>sha256:…</c>).</param>
/// <param name="Definition">The definition served downstream: the upstream's, with the gateway's name (<c>fs/read_text_file</c>) and everything else unchanged.</param>
/// <param name="Raw">The tool object exactly as the upstream sent it (what <paramref name="Hash"/> hashes).</param>
internal sealed record UpstreamTool(string Name, string Hash, ModelContextProtocol.Protocol.Tool Definition, JsonObject Raw);
