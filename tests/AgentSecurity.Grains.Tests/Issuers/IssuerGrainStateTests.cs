using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Issuers;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace AgentSecurity.Grains.Tests;

/// <summary>
/// The outbox makes a change on a copy and keeps the old state when the write fails: that needs a copy sharing nothing
/// the change could mutate.
/// </summary>
public sealed class IssuerGrainStateTests
{
    [Fact]
    public void DeepCopy_ChangedCopy_LeavesTheOriginalAsItWas()
    {
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var state = new IssuerGrainState();
        state.AcceptedGrants["g-1"] = new AcceptedGrant { AgentId = "bot", Depth = 1 };
        state.RevokedGrants["g-0"] = new RevokedGrant { Reason = "leaked" };
        state.Requests.Add(new PermissionRequestRecord { RequestId = "req-1", Status = PermissionRequestStatus.Pending });
        state.AdminDocuments["did:key:admin"] = "{}";
        state.PendingEvents.Add("{}");

        var copy = services.GetRequiredService<DeepCopier<IssuerGrainState>>().Copy(state);
        copy.AcceptedGrants["g-1"] = new AcceptedGrant { AgentId = "bot", Depth = 2 }; // a record is replaced, never changed
        copy.RevokedGrants["g-0"].Reason = "changed";
        copy.Requests[0].Status = PermissionRequestStatus.Approved;
        copy.AdminDocuments.Clear();
        copy.PendingEvents.Clear();
        copy.NextRequestNumber = 7;

        Assert.Equal(1, state.AcceptedGrants["g-1"].Depth);
        Assert.Equal(2, copy.AcceptedGrants["g-1"].Depth);
        Assert.Equal("leaked", state.RevokedGrants["g-0"].Reason);
        Assert.Equal(PermissionRequestStatus.Pending, state.Requests[0].Status);
        Assert.Single(state.AdminDocuments);
        Assert.Single(state.PendingEvents);
        Assert.Equal(1, state.NextRequestNumber);
    }

    [Fact]
    public void DeepCopy_AcceptedGrants_AreSharedNotCopied()
    {
        // Records are immutable (init only), so the copy of a state with thousands of them copies none: a write of the
        // issuer's state does not allocate per live grant, nor grow the copier's pooled context to their number.
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var state = new IssuerGrainState();
        state.AcceptedGrants["g-1"] = new AcceptedGrant { AgentId = "bot", Depth = 1 };

        var copy = services.GetRequiredService<DeepCopier<IssuerGrainState>>().Copy(state);

        Assert.NotSame(state.AcceptedGrants, copy.AcceptedGrants);
        Assert.Same(state.AcceptedGrants["g-1"], copy.AcceptedGrants["g-1"]);
    }
}
