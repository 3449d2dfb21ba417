using AgentSecurity.Sandbox.Host;
using AgentSecurity.Sandbox.JavaScript;
using AgentSecurity.Sandbox.Processes;

namespace AgentSecurity.Sandbox.Tests.Infrastructure;

/// <summary>
/// JavaScript worker pools for tests: real worker processes under bubblewrap, their users from a range of this test run's
/// own (as <see cref="Jobs.Workspaces"/>'s are), their scratch under the run's temporary root.
/// </summary>
internal static class JsWorkers
{
    // Four warm: the contract suite runs its JavaScript cases one after another, each taking a worker, so the
    // replacements start while the next cases run rather than each case waiting for one.
    private static readonly Lazy<JsWorkerPool> SharedPool = new(() => New(new JsWorkerPoolOptions { WarmWorkers = 4 }));
    private static int _pools;

    /// <summary>The pool the JavaScript tests share (never disposed: its workers die with the test process).</summary>
    public static ISandboxRuntime Shared => new Unowned(SharedPool.Value);

    /// <summary>A pool of its own, for tests that count or break its workers; each gets a distinct range of users (and, if given, its own workspace root).</summary>
    public static JsWorkerPool New(JsWorkerPoolOptions options, string? workspaceRoot = null)
    {
        var index = (uint)Interlocked.Increment(ref _pools);
        options.FirstUserId = 1_690_000_000 + ((uint)Environment.ProcessId % 1000 * 10_000) + (index * 100);
        options.UserIdCount = 100;
        return new JsWorkerPool(new ProcessRuntimeOptions { ScratchRoot = Path.Combine(workspaceRoot ?? Jobs.Workspaces.Root, ".exec") }, options);
    }

    /// <summary>The shared pool as a runtime whose owner is not its user: disposing it is not this user's to do.</summary>
    private sealed class Unowned(ISandboxRuntime inner) : ISandboxRuntime
    {
        public string Name => inner.Name;

        public Task<SandboxResult> RunAsync(SandboxJob job, IHostApi host, CancellationToken cancellation) => inner.RunAsync(job, host, cancellation);
    }
}
