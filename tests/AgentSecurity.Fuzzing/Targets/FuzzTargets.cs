namespace AgentSecurity.Fuzzing.Targets;

/// <summary>The targets by the name the fuzzer and the input folders use.</summary>
public static class FuzzTargets
{
    public static IReadOnlyDictionary<string, Action<byte[]>> All { get; } = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        ["documents"] = DocumentTarget.Run,
        ["events"] = EventTarget.Run,
        ["host-calls"] = HostCallTarget.Run,
    };
}
