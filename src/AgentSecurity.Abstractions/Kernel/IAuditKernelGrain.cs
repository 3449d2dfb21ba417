using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Abstractions.Boundary;

namespace AgentSecurity.Abstractions.Kernel;

/// <summary>
/// What the kernel calls on a tenant's audit log: refused to every client, so that events enter the log only through the
/// stream the kernel's grains publish to.
/// </summary>
[KernelOnly]
public interface IAuditKernelGrain : IAuditStreamGrain
{
    /// <summary>Appends events (duplicates by id are dropped): how the stream delivers (and how benchmarks holding the cluster's key feed it).</summary>
    Task<AuditAppendResult> AppendAsync(IReadOnlyList<SecurityEvent> events);
}
