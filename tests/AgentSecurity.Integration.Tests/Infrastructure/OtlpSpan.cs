namespace AgentSecurity.Integration.Tests.Infrastructure;

/// <summary>One span as a collector received it: ids in lowercase hex, its attributes and its resource's.</summary>
internal sealed record OtlpSpan(string TraceId, string SpanId, string ParentSpanId, string Name, IReadOnlyDictionary<string, object> Attributes, IReadOnlyDictionary<string, object> Resource);
