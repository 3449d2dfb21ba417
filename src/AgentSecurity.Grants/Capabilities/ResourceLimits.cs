namespace AgentSecurity.Grants.Capabilities;

/// <summary>The <c>resourceLimits</c> of a grant; an absent limit is null.</summary>
public sealed record ResourceLimits
{
    public static readonly ResourceLimits None = new();

    /// <summary>The wire names, in the order the contract lists them.</summary>
    public static readonly IReadOnlyList<string> Names =
    [
        "maxMemoryBytes", "maxCpuMillis", "maxWallMillis", "maxOutputBytes", "maxConcurrentExecutions",
        "checksPerSecond", "networkRequestsPerMinute", "llmTokensPerHour", "fileBytesWrittenPerHour", "memoryBytesStored",
    ];

    public long? MaxMemoryBytes { get; init; }
    public long? MaxCpuMillis { get; init; }
    public long? MaxWallMillis { get; init; }
    public long? MaxOutputBytes { get; init; }
    public long? MaxConcurrentExecutions { get; init; }
    public long? ChecksPerSecond { get; init; }
    public long? NetworkRequestsPerMinute { get; init; }
    public long? LlmTokensPerHour { get; init; }
    public long? FileBytesWrittenPerHour { get; init; }
    public long? MemoryBytesStored { get; init; }

    public bool IsEmpty => Names.All(name => Get(name) is null);

    public long? Get(string name) => name switch
    {
        "maxMemoryBytes" => MaxMemoryBytes,
        "maxCpuMillis" => MaxCpuMillis,
        "maxWallMillis" => MaxWallMillis,
        "maxOutputBytes" => MaxOutputBytes,
        "maxConcurrentExecutions" => MaxConcurrentExecutions,
        "checksPerSecond" => ChecksPerSecond,
        "networkRequestsPerMinute" => NetworkRequestsPerMinute,
        "llmTokensPerHour" => LlmTokensPerHour,
        "fileBytesWrittenPerHour" => FileBytesWrittenPerHour,
        "memoryBytesStored" => MemoryBytesStored,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a resource limit"),
    };

    public ResourceLimits With(string name, long value) => name switch
    {
        "maxMemoryBytes" => this with { MaxMemoryBytes = value },
        "maxCpuMillis" => this with { MaxCpuMillis = value },
        "maxWallMillis" => this with { MaxWallMillis = value },
        "maxOutputBytes" => this with { MaxOutputBytes = value },
        "maxConcurrentExecutions" => this with { MaxConcurrentExecutions = value },
        "checksPerSecond" => this with { ChecksPerSecond = value },
        "networkRequestsPerMinute" => this with { NetworkRequestsPerMinute = value },
        "llmTokensPerHour" => this with { LlmTokensPerHour = value },
        "fileBytesWrittenPerHour" => this with { FileBytesWrittenPerHour = value },
        "memoryBytesStored" => this with { MemoryBytesStored = value },
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a resource limit"),
    };
}
