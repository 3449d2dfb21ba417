namespace AgentSecurity.Sandbox.JavaScript;

/// <summary>
/// The one execution an engine serves, and its allocation budget: what the engine's host functions, guards and
/// constraints read. An engine may be built before its job is known (<see cref="PreparedEngine"/>), so they read the
/// slot rather than capturing the execution; it is filled once, when the job arrives, and never emptied or refilled
/// (an engine runs one execution).
/// </summary>
internal sealed class JobSlot
{
    private InProcessExecution? _execution;
    private AllocationBudget? _budget;

    /// <summary>The execution; only the script calls what reads it, and the script runs after <see cref="Fill"/>.</summary>
    public InProcessExecution Execution => _execution ?? throw NotFilled();

    public AllocationBudget Budget => _budget ?? throw NotFilled();

    /// <summary>Null until the job arrives: the constraints look at nothing while the engine runs only its own prelude.</summary>
    public InProcessExecution? ExecutionOrNull => _execution;

    public void Fill(InProcessExecution execution, AllocationBudget budget)
    {
        if (_execution is not null)
        {
            throw new InvalidOperationException("an engine runs one execution");
        }

        _execution = execution;
        _budget = budget;
    }

    // Fail closed: a host function reached with no job is a bug, and ends whatever runs as a sandbox failure.
    private static SandboxException NotFilled() => new(AgentSecurity.Grants.ReasonCodes.ExecutionFailed, "the engine has no execution");
}
