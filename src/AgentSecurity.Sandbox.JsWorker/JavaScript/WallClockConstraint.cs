using Jint;

namespace AgentSecurity.Sandbox.JavaScript;

/// <summary>
/// Ends a script once its execution's wall-clock limit is up or the kill switch cancelled it, as
/// <see cref="InProcessExecution.ThrowIfStopped"/> decides. Jint's own timeout and cancellation constraints take their
/// limit when the engine is built, before a worker's job (and its limits) is known; this one reads the execution's.
/// </summary>
internal sealed class WallClockConstraint(JobSlot slot) : Constraint
{
    /// <summary>It reads a clock and a token, so the engine may check it every few statements, as it does its own timeout.</summary>
    public override bool IsAmortizable => true;

    /// <summary>
    /// Throws Jint's own stop exceptions, which Jint never turns into something a script can catch (a rejected promise,
    /// say), where the execution's <see cref="SandboxException"/> is not on that list. The codes are the same.
    /// </summary>
    public override void Check()
    {
        if (slot.ExecutionOrNull is not { } execution)
        {
            return;
        }

        if (execution.Cancellation.IsCancellationRequested)
        {
            throw new Jint.Runtime.ExecutionCanceledException();
        }

        if (execution.OutOfWallTime)
        {
            throw new TimeoutException();
        }
    }

    public override void Reset()
    {
    }
}
