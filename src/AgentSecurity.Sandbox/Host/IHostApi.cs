namespace AgentSecurity.Sandbox.Host;

/// <summary>
/// The host API as the kernel provides it to one execution: every call is a permission check on the agent's grain
/// (with an amount where a limit meters it) before anything happens, and a denied call is audited and answered with
/// its reason. Runtimes call it from their own threads (WebAssembly and JavaScript block their execution thread on
/// it; the process runtime awaits it), never from the agent grain's scheduler, so it cannot deadlock with it.
/// </summary>
public interface IHostApi
{
    /// <summary>Performs one call; never throws for anything the call asks (failures are replies).</summary>
    ValueTask<HostReply> CallAsync(HostCall call);
}
