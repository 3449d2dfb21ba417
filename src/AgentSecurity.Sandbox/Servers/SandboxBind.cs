namespace AgentSecurity.Sandbox.Servers;

/// <summary>
/// A directory or file of the machine that a server sees read-only at <paramref name="SandboxPath"/>: its program's own
/// files (a Node package and its <c>node_modules</c>, say), since the sandbox shows only <c>/usr</c> of the system. The
/// agent's user must be able to read it (bubblewrap binds it as that user).
/// </summary>
/// <param name="HostPath">An absolute path on the machine; a link is followed.</param>
/// <param name="SandboxPath">An absolute path in normal form inside the sandbox, outside the places the sandbox itself
/// makes (<see cref="SandboxServerSpec.ReservedPaths"/>).</param>
public sealed record SandboxBind(string HostPath, string SandboxPath);
