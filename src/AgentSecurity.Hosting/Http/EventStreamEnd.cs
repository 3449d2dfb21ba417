using System.Text.Json.Serialization;

namespace AgentSecurity.Hosting.Http;

/// <summary>The last event of an event stream the silo ends: why, as a code (the client reconnects with Last-Event-ID).</summary>
internal sealed record EventStreamEnd(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("message")] string Message);
