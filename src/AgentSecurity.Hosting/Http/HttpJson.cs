using System.Text.Json.Serialization;

namespace AgentSecurity.Hosting.Http;

/// <summary>The HTTP API's JSON, generated at build time; absent values left out.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(AuthZenDecision))]
[JsonSerializable(typeof(AuthZenEvaluationsResponse))]
[JsonSerializable(typeof(AuthZenMetadata))]
[JsonSerializable(typeof(EventStreamEnd))]
internal sealed partial class HttpJson : JsonSerializerContext;
