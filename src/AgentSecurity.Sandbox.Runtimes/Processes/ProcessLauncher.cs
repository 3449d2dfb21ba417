using System.Collections.Concurrent;
using System.Diagnostics;

namespace AgentSecurity.Sandbox.Processes;

/// <summary>
/// Starts sandbox processes from one thread that lives as long as the silo. bubblewrap's <c>--die-with-parent</c>
/// (PR_SET_PDEATHSIG) fires when the <em>thread</em> that started it ends, not the process; started from a thread of
/// the pool, a sandbox would be killed whenever the pool retired that thread. From this one it dies only with the silo.
/// </summary>
internal static class ProcessLauncher
{
    private static readonly BlockingCollection<(Process Process, TaskCompletionSource Started)> Requests = [];

    static ProcessLauncher()
    {
        new Thread(() =>
        {
            foreach (var (process, started) in Requests.GetConsumingEnumerable())
            {
                try
                {
                    process.Start();
                    started.SetResult();
                }
#pragma warning disable CA1031 // The failure belongs to the execution that asked; this thread must go on.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    started.SetException(e);
                }
            }
        })
        {
            IsBackground = true,
            Name = "agentsec-process-launcher",
        }.Start();
    }

    public static Task StartAsync(Process process)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Requests.Add((process, started));
        return started.Task;
    }
}
