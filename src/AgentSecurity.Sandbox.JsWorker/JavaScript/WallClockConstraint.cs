using Jint;

namespace AgentSecurity.Sandbox.JavaScript;

/// <summary>
/// Ends a script once its execution's wall-clock limit is up or the kill switch cancelled it
/// (<see cref="InProcessExecution.ThrowIfStopped"/>). Jint's own timeout and cancellation constraints take their
/// limit when the engine is built, before a worker's job (and its limits) is known; this one reads the execution's.
/// </summary>
internal sealed class WallClockConstraint(JobSlot slot) : Constraint
{
    /// <summary>It reads a clock and a token, so the engine may check it every few statements, as it does its own timeout.</summary>
    public override bool IsAmortizable => true;

    public override void Check() => slot.ExecutionOrNull?.ThrowIfStopped();

    public override void Reset()
    {
    }
}
