namespace AgentSecurity.Abstractions.Boundary;

/// <summary>
/// A call the trust boundary refused before it reached the grain: <c>unauthenticated</c> (no valid session) or
/// <c>forbidden</c> (a right the caller lacks, or a method only the kernel may call). Nothing was changed.
/// </summary>
[GenerateSerializer, Alias("agentsec.CallRefusedException.v1")]
public sealed class CallRefusedException : Exception
{
    public CallRefusedException()
    {
    }

    public CallRefusedException(string message)
        : base(message)
    {
    }

    public CallRefusedException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public CallRefusedException(string code, string message)
        : base(message)
    {
        Code = code;
    }

    /// <summary>The stable reason code: <c>unauthenticated</c> or <c>forbidden</c>.</summary>
    [Id(0)]
    public string Code { get; init; } = string.Empty;
}
