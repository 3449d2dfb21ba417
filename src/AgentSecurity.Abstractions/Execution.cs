namespace AgentSecurity.Abstractions;

/// <summary>Agent code to run in one of the cluster's sandboxes (<c>wasm</c>, <c>js</c> or <c>process</c>).</summary>
[GenerateSerializer, Immutable, Alias("agentsec.ExecutionRequest.v1")]
public sealed record ExecutionRequest
{
    /// <summary><c>wasm</c> (a module, binary or text), <c>js</c> (a script) or <c>process</c> (an executable).</summary>
    [Id(0)] public required string Runtime { get; init; }

    [Id(1)] public required byte[] Code { get; init; }

    /// <summary>What the code reads as its input.</summary>
    [Id(2)] public string Input { get; init; } = string.Empty;
}

/// <summary>How an execution ended: its output, and when it failed, an error code of <c>contracts/cli.md</c>.</summary>
[GenerateSerializer, Immutable, Alias("agentsec.ExecutionResult.v1")]
public sealed record ExecutionResult : IOutcome
{
    bool IOutcome.Succeeded => Ok;

    [Id(0)] public bool Ok { get; init; }

    /// <summary>What the code wrote, up to the output limit (also when it failed).</summary>
    [Id(1)] public string Output { get; init; } = string.Empty;

    /// <summary>Null when it succeeded; else e.g. <c>isolation_forbids</c>, <c>fuel_exhausted</c>, <c>quarantined</c>.</summary>
    [Id(2)] public string? Error { get; init; }

    [Id(3)] public string? Message { get; init; }

    [Id(4)] public ExecutionUsage Usage { get; init; } = new();

    /// <summary>The grant the execution ran under.</summary>
    [Id(5)] public string? GrantId { get; init; }

    public static ExecutionResult Refused(string code, string message, string? grantId = null) =>
        new() { Ok = false, Error = code, Message = message, GrantId = grantId };
}

/// <summary>What an execution used.</summary>
[GenerateSerializer, Immutable, Alias("agentsec.ExecutionUsage.v1")]
public sealed record ExecutionUsage
{
    [Id(0)] public long CpuMillis { get; init; }

    [Id(1)] public long WallMillis { get; init; }

    [Id(2)] public long MemoryBytes { get; init; }

    /// <summary>Host calls the code made, each a permission check.</summary>
    [Id(3)] public long HostCalls { get; init; }

    /// <summary>Host calls the grant denied.</summary>
    [Id(4)] public long Denied { get; init; }
}
