using System.Diagnostics;

namespace AgentSecurity.Sandbox.Processes;

/// <summary>The first reason a sandboxed process was stopped for; its process tree is killed once.</summary>
internal sealed class StopReason(Process process)
{
    private int _stopped;

    public string? Code { get; private set; }

    public string? Message { get; private set; }

    public void Kill(string code, string message)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        Code = code;
        Message = message;
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // it ended meanwhile
        }
    }
}
