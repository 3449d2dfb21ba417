using Jint;

namespace AgentSecurity.Sandbox.JavaScript;

/// <summary>
/// Ends a script once its thread has used the execution's CPU budget, beside the statement count that approximates
/// it (see <see cref="InProcessExecution.ThrowIfCpuSpent"/>). One per engine, and an engine runs one execution; it
/// looks at nothing until the engine's <see cref="JobSlot"/> holds that execution.
/// </summary>
internal sealed class CpuBudgetConstraint(JobSlot slot) : Constraint
{
    /// <summary>It reads a clock and consumes nothing, so the engine may check it every few statements.</summary>
    public override bool IsAmortizable => true;

    public override void Check() => slot.ExecutionOrNull?.ThrowIfCpuSpent();

    public override void Reset()
    {
    }
}
