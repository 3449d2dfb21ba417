namespace AgentSecurity.Sandbox;

/// <summary>Ends an execution with an error code of <c>contracts/cli.md</c>; thrown inside runtimes and caught at their edge.</summary>
public sealed class SandboxException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
