using AgentSecurity.Grants;
using AgentSecurity.Sandbox.Host;

namespace AgentSecurity.Sandbox.JavaScript;

/// <summary>
/// The host API behind one worker's socket: refuses every call until the worker is given its job, then passes calls to
/// that job's metered host (the agent's grain checks each), and refuses again once the job is over. A worker serves one
/// job, so no call ever reaches another agent's host.
/// </summary>
internal sealed class JsWorkerHost : IHostApi
{
    private volatile IHostApi? _job;
    private volatile bool _ended;

    public void Begin(IHostApi job) => _job = job;

    public void End()
    {
        _ended = true;
        _job = null;
    }

    public ValueTask<HostReply> CallAsync(HostCall call) => _job is { } job && !_ended
        ? job.CallAsync(call)
        : ValueTask.FromResult(HostReply.Fail(ReasonCodes.Unavailable, "the worker has no job"));
}
