namespace AgentSecurity.Cli;

/// <summary>The exit codes of <c>contracts/cli.md</c>.</summary>
internal static class ExitCodes
{
    /// <summary>Success, or allowed.</summary>
    public const int Ok = 0;

    /// <summary>The answer is no: denied, invalid, refused.</summary>
    public const int No = 1;

    public const int Usage = 2;

    /// <summary>The cluster or storage could not be reached.</summary>
    public const int Unreachable = 3;
}
