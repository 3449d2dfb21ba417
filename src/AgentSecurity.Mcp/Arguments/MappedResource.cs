using AgentSecurity.Abstractions;

namespace AgentSecurity.Mcp.Arguments;

/// <summary>A check an argument maps to, and the argument it came from (to say which one refused a call).</summary>
/// <param name="Argument">The concrete pointer (<c>/paths/1</c>), with "(resolved)" for the real path of a link.</param>
/// <param name="Check">The check sent to the agent's grain.</param>
public sealed record MappedResource(string Argument, CheckRequest Check);
