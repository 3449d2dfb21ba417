using AgentSecurity.Grains.Quotas;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Quotas;

namespace AgentSecurity.Grains.Tests.Quotas;

/// <summary>The one plan an agent reuses for every check: a reset leaves nothing of the last check behind.</summary>
public sealed class MeterPlanTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Reset_AfterAFullPlanAndADenial_IsEmpty()
    {
        var plan = new MeterPlan();
        var bucket = new ReservedBucket(10, TimeSpan.FromSeconds(1), stored: null);
        plan.Own.Add((MeteredLimit.ChecksPerSecond, bucket, 1, 0));
        plan.Reservations.Add((MeteredLimit.ChecksPerSecond, new BucketRecord { At = T0, Reserved = 10 }));
        plan.Tenant.Add((MeteredLimit.LlmTokensPerHour, 5, 5));
        plan.Remaining = 9;
        plan.Deny(ReasonCodes.RateLimited, "no");

        Assert.Same(plan, plan.Reset());

        Assert.Empty(plan.Own);
        Assert.Empty(plan.Reservations);
        Assert.Empty(plan.Tenant);
        Assert.Null(plan.Remaining);
        Assert.Null(plan.DenialReason);
        Assert.Null(plan.DenialMessage);
        Assert.False(plan.NeedsAwait);
    }

    [Fact]
    public void Deny_SetsReasonAndMessage()
    {
        var plan = new MeterPlan().Deny(ReasonCodes.QuotaExceeded, "spent");

        Assert.Equal((ReasonCodes.QuotaExceeded, "spent"), (plan.DenialReason, plan.DenialMessage));
    }

    [Fact]
    public void NeedsAwait_OnlyForAReservationOrALeaseToTake()
    {
        var plan = new MeterPlan();

        plan.Tenant.Add((MeteredLimit.LlmTokensPerHour, 5, 0)); // covered by the live lease
        Assert.False(plan.NeedsAwait);

        plan.Tenant.Add((MeteredLimit.NetworkRequestsPerMinute, 1, 1));
        Assert.True(plan.NeedsAwait);

        plan.Reset().Reservations.Add((MeteredLimit.ChecksPerSecond, new BucketRecord { At = T0, Reserved = 1 }));
        Assert.True(plan.NeedsAwait);
    }
}
