using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSecurity.Abstractions.Audit;

namespace AgentSecurity.Audit.Tests.Export;

/// <summary>One event of every type, built with its own subtype: fully populated, or with only what is required.</summary>
internal static class SampleEvents
{
    public const string Tenant = "acme";
    public const string AgentId = "bot-1";
    public const string Signer = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
    public const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";

    public static readonly DateTimeOffset Time = new(2026, 3, 1, 12, 30, 45, 123, TimeSpan.Zero);

    /// <summary>Every constant of <see cref="SecurityEventTypes"/>, so that a type added there is tested here.</summary>
    public static IReadOnlyList<string> AllTypes { get; } = typeof(SecurityEventTypes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToList();

    public static TheoryData<string> Types
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var type in AllTypes)
            {
                data.Add(type);
            }

            return data;
        }
    }

    /// <summary>Every type, fully populated (true) and minimal (false).</summary>
    public static TheoryData<string, bool> TypesAndShapes
    {
        get
        {
            var data = new TheoryData<string, bool>();
            foreach (var type in AllTypes)
            {
                data.Add(type, true);
                data.Add(type, false);
            }

            return data;
        }
    }

    public static SecurityEvent Build(string type, bool full) => full ? Full(type) : Minimal(type);

    public static SecurityEvent Full(string type)
    {
        SecurityEvent e = type switch
        {
            SecurityEventTypes.CheckDenied or SecurityEventTypes.ChecksAllowed or SecurityEventTypes.QuotaExceeded => new DecisionEvent
            {
                Id = "ev-" + type,
                Type = type,
                TenantId = Tenant,
                Capability = "fileSystem:read",
                Resource = "/data/report.csv",
                GrantId = "g-1",
                Count = type == SecurityEventTypes.ChecksAllowed ? 42 : 1,
                Reason = type switch
                {
                    SecurityEventTypes.ChecksAllowed => "allowed",
                    SecurityEventTypes.QuotaExceeded => "quota_exceeded",
                    _ => "no_grant",
                },
            },
            SecurityEventTypes.SandboxViolation or SecurityEventTypes.ExecutionCompleted or SecurityEventTypes.ExecutionFailed => new SandboxEvent
            {
                Id = "ev-" + type,
                Type = type,
                TenantId = Tenant,
                Capability = type == SecurityEventTypes.SandboxViolation ? "network:outbound" : null,
                Resource = type == SecurityEventTypes.SandboxViolation ? "example.com:443" : "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                Runtime = "wasm",
                Reason = type switch
                {
                    SecurityEventTypes.ExecutionCompleted => "allowed",
                    SecurityEventTypes.ExecutionFailed => "execution_failed",
                    _ => "sandbox_violation",
                },
            },
            SecurityEventTypes.ToolCalled or SecurityEventTypes.ToolDenied or SecurityEventTypes.ToolChanged => new ToolEvent
            {
                Id = "ev-" + type,
                Type = type,
                TenantId = Tenant,
                Server = "fs",
                Tool = "read_text_file",
                GrantId = "g-1",
                DefinitionHash = "sha256:1d8b2b6ca5e1073726f4f41ba61ac8c888d2867157d6cf12547c55051c7f482a",
                Capability = type == SecurityEventTypes.ToolDenied ? "fileSystem:read" : null,
                Resource = type == SecurityEventTypes.ToolDenied ? "/etc/passwd" : null,
                RequestId = type == SecurityEventTypes.ToolDenied ? "req-1" : null,
                Reason = type switch
                {
                    SecurityEventTypes.ToolCalled => "allowed",
                    SecurityEventTypes.ToolChanged => "tool_changed",
                    _ => "out_of_scope",
                },
            },
            SecurityEventTypes.AlertRaised => new AlertEvent
            {
                Id = "ev-" + type,
                Type = type,
                TenantId = Tenant,
                Count = 12,
                Action = "quarantine",
                Reason = "repeated-denials",
            },
            _ => new AdministrativeEvent
            {
                Id = "ev-" + type,
                Type = type,
                TenantId = Tenant,
                GrantId = "g-1",
                SignerDid = Signer,
                Capability = type.StartsWith("request.", StringComparison.Ordinal) ? "llm" : null,
                Resource = type.StartsWith("request.", StringComparison.Ordinal) ? "gpt-large" : null,
                Reason = type == SecurityEventTypes.GrantRefused ? "bad_signature" : null,
            },
        };
        return e with { AgentId = AgentId, Time = Time, Silo = "silo-a", TraceId = TraceId, Message = "what happened to " + type };
    }

    public static SecurityEvent Minimal(string type)
    {
        SecurityEvent e = type switch
        {
            SecurityEventTypes.CheckDenied or SecurityEventTypes.ChecksAllowed or SecurityEventTypes.QuotaExceeded =>
                new DecisionEvent { Id = "min-" + type, Type = type, TenantId = Tenant, Capability = "llm" },
            SecurityEventTypes.SandboxViolation or SecurityEventTypes.ExecutionCompleted or SecurityEventTypes.ExecutionFailed =>
                new SandboxEvent { Id = "min-" + type, Type = type, TenantId = Tenant },
            SecurityEventTypes.AlertRaised => new AlertEvent { Id = "min-" + type, Type = type, TenantId = Tenant, Action = "none" },
            SecurityEventTypes.ToolCalled or SecurityEventTypes.ToolDenied or SecurityEventTypes.ToolChanged =>
                new ToolEvent { Id = "min-" + type, Type = type, TenantId = Tenant, Server = "fs", Tool = "x" },
            _ => new AdministrativeEvent { Id = "min-" + type, Type = type, TenantId = Tenant },
        };
        return e with { Time = Time };
    }

    public static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>The document without the members at the given dotted paths (absent ones are ignored).</summary>
    public static JsonElement Without(string json, params string[] paths)
    {
        var root = JsonNode.Parse(json)!.AsObject();
        foreach (var path in paths)
        {
            var names = path.Split('.');
            JsonNode? parent = root;
            foreach (var name in names[..^1])
            {
                parent = parent is JsonObject o && o.TryGetPropertyValue(name, out var child) ? child : null;
            }

            (parent as JsonObject)?.Remove(names[^1]);
        }

        return Parse(root.ToJsonString());
    }

    /// <summary>The document with one member replaced by the given JSON value.</summary>
    public static JsonElement With(string json, string name, string valueJson)
    {
        var root = JsonNode.Parse(json)!.AsObject();
        root[name] = JsonNode.Parse(valueJson);
        return Parse(root.ToJsonString());
    }
}
