using AgentSecurity.Grants.Quotas;

namespace AgentSecurity.Grains.Quotas;

/// <summary>What a check would spend: agent buckets, reservations to write first, tenant leases to take first.</summary>
internal sealed class MeterPlan
{
    public List<(MeteredLimit Limit, ReservedBucket Bucket, long Cost, Int128 TatAfter)> Own { get; } = [];

    public List<(MeteredLimit Limit, BucketRecord Record)> Reservations { get; } = [];

    /// <summary>Tenant limits metering the check: cost, and how much to lease first (0 when the lease covers it).</summary>
    public List<(MeteredLimit Limit, long Cost, long ToLease)> Tenant { get; } = [];

    public long? Remaining { get; set; }

    public string? DenialReason { get; private set; }

    public string? DenialMessage { get; private set; }

    public bool NeedsAwait => Reservations.Count > 0 || Tenant.Exists(t => t.ToLease > 0);

    public MeterPlan Reset()
    {
        Own.Clear();
        Reservations.Clear();
        Tenant.Clear();
        Remaining = null;
        DenialReason = null;
        DenialMessage = null;
        return this;
    }

    public MeterPlan Deny(string reason, string message)
    {
        DenialReason = reason;
        DenialMessage = message;
        return this;
    }
}
