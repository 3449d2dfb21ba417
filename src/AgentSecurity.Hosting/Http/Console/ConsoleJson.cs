using System.Text.Json.Serialization;

namespace AgentSecurity.Hosting.Http.Console;

/// <summary>The security console's JSON, generated at build time; absent values left out.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ConsoleOverview))]
internal sealed partial class ConsoleJson : JsonSerializerContext;
