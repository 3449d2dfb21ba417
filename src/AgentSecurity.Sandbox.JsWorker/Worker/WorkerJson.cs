using System.Text.Json.Serialization;

namespace AgentSecurity.Sandbox.Worker;

/// <summary>The worker's two messages, serialized without reflection: nothing of either side's startup is spent on it.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(WorkerJob))]
[JsonSerializable(typeof(WorkerResult))]
internal sealed partial class WorkerJson : JsonSerializerContext;
