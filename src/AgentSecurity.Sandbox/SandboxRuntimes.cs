namespace AgentSecurity.Sandbox;

/// <summary>The runtimes, by the names the command line and the wire use.</summary>
public static class SandboxRuntimes
{
    public const string Wasm = "wasm";

    public const string JavaScript = "js";

    public const string Process = "process";

    public static readonly IReadOnlyList<string> All = [Wasm, JavaScript, Process];
}
