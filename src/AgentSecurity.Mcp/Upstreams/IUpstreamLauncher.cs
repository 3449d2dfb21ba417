namespace AgentSecurity.Mcp.Upstreams;

/// <summary>
/// Starts the program of an upstream. <c>agentsec mcp serve</c> starts it as its own child process
/// (<see cref="LocalUpstreamLauncher"/>); the silo's HTTP endpoint starts it as a sandboxed server of the agent.
/// </summary>
public interface IUpstreamLauncher
{
    /// <summary>Starts <paramref name="options"/>' program, or throws <see cref="UpstreamStartException"/> saying why not.</summary>
    Task<UpstreamProcess> StartAsync(UpstreamOptions options, CancellationToken cancellationToken);
}
