using System.Diagnostics;
using AgentSecurity.Sandbox.Workspaces;

namespace AgentSecurity.Sandbox.Processes;

/// <summary>
/// The limits of a writable workspace while a native process (an execution or a server) runs. A workspace that was over
/// them before (its limits were lowered) may be cleaned up by the process, not grown.
/// </summary>
internal sealed class WorkspaceWatch
{
    private readonly AgentWorkspace _workspace;
    private readonly TimeSpan _interval;
    private readonly bool _writable;
    private readonly WorkspaceUsage? _before;
    private TimeSpan _next;

    public WorkspaceWatch(AgentWorkspace workspace, WorkspaceAccess access, TimeSpan interval)
    {
        (_workspace, _interval, _next) = (workspace, interval, interval);
        _writable = access == WorkspaceAccess.ReadWrite;
        _before = _writable ? _workspace.Measure() : null;
    }

    public bool Due(TimeSpan elapsed)
    {
        if (!_writable || elapsed < _next)
        {
            return false;
        }

        _next = elapsed + _interval;
        return true;
    }

    /// <summary>Measures, and spaces the next measurement so that measuring takes at most a twentieth of the time.</summary>
    private WorkspaceUsage? Measure()
    {
        var started = Stopwatch.GetTimestamp();
        var usage = _workspace.Measure();
        var cost = Stopwatch.GetElapsedTime(started);
        _next += cost * 20 > _interval ? (cost * 20) - _interval : TimeSpan.Zero;
        return usage;
    }

    /// <summary>Why the workspace is now over its limits and bigger than it was, or null. One that cannot be measured is over.</summary>
    public string? Overgrown()
    {
        if (!_writable)
        {
            return null;
        }

        if (Measure() is not { } now)
        {
            return AgentWorkspace.Unmeasurable;
        }

        return _workspace.Exceeded(now) is { } full && (_before is not { } before || now.Bytes > before.Bytes || now.Entries > before.Entries)
            ? full : null;
    }
}
