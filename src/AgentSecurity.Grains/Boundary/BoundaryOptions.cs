namespace AgentSecurity.Grains.Boundary;

/// <summary>The trust boundary's settings (configuration section <c>AgentSecurity:Boundary</c>).</summary>
public sealed class BoundaryOptions
{
    public const string SectionName = "AgentSecurity:Boundary";

    /// <summary>Verified sessions a silo remembers (default 10,000); past it, the oldest are dropped and verified again when seen.</summary>
    public int SessionCacheSize { get; set; } = 10_000;

    /// <summary>
    /// How long a silo keeps a tenant's callers (roots, admins, access documents) before it asks the issuer again (default
    /// 5 s): the longest a revoked access document or an expired admin may still be honoured by a silo that did not revoke it.
    /// </summary>
    public TimeSpan CallersLifetime { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Tenants whose callers a silo keeps at once (default 10,000).</summary>
    public int TenantCacheSize { get; set; } = 10_000;

    /// <summary>
    /// Full names of Orleans interfaces that clients may call besides the kernel's and Orleans' essential plumbing: for
    /// a test cluster, <c>Orleans.Runtime.TestHooks.ITestHooks</c>. Empty by default; each one widens what a client reaches.
    /// </summary>
    public IList<string> ClientInfrastructure { get; } = [];
}
