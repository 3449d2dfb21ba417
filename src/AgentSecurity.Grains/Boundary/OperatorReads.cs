namespace AgentSecurity.Grains.Boundary;

/// <summary>
/// Reads the silo's own operator pages make of the kernel's grains, as the kernel: the security console, which the
/// silo opens on the same terms as the Orleans dashboard (a request straight from this machine, or the operator's
/// bearer session) and which has no session of its own to call with. Only for code that has admitted the operator
/// already and calls read-only methods; every other HTTP endpoint calls with its caller's session. Internal, visible to
/// the silo's hosting alone: a public way into the kernel's scope would let any code co-hosted in the silo (a
/// platform's grains) call as the kernel.
/// </summary>
internal static class OperatorReads
{
    /// <summary>The calls of this flow are the kernel's until the returned scope is disposed.</summary>
    public static IDisposable Enter() => KernelScope.Enter();
}
