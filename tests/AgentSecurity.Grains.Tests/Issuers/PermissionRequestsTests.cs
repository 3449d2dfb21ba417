using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Issuers;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AgentSecurity.Grains.Tests;

/// <summary>Which permission requests expire or are forgotten, and which grants answer a request.</summary>
public sealed class PermissionRequestsTests
{
    private static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(24);

    private readonly FakeTimeProvider _clock = new(TestDocuments.Epoch);

    private DateTimeOffset Now => _clock.GetUtcNow();

    private PermissionRequestRecord Request(PermissionRequestStatus status = PermissionRequestStatus.Pending, string id = "req-1") => new()
    {
        RequestId = id,
        AgentId = "bot",
        Capability = "network:outbound",
        Resource = "api.example.org:443",
        RequestedAt = Now,
        ExpiresAt = Now.AddHours(1),
        Status = status,
    };

    private DocumentTemplate Answer(TimeSpan lifetime) =>
        TestDocuments.Grant("acme", "bot", Now, "elev-1")
            .SetJson("capabilities", """{"fileSystem":"none","network":"outbound","memory":"none","subprocess":false,"vectorDb":false,"llm":false}""")
            .SetJson("scopes", """{"network":["api.example.org:443"]}""")
            .Set("expiresAt", Now + lifetime);

    private static GrantDocument Signed(DocumentTemplate template) => GrantDocument.Parse(template.SignWith(TestKeys.Root)).Value;

    [Fact]
    public void Expire_PendingPastItsTime_BecomesExpiredAndTheRestStay()
    {
        var due = Request();
        var later = Request(id: "req-2");
        later.ExpiresAt = Now.AddHours(2);
        var approved = Request(PermissionRequestStatus.Approved, "req-3");
        var requests = new List<PermissionRequestRecord> { due, later, approved };
        _clock.Advance(TimeSpan.FromHours(1));

        PermissionRequests.Expire(requests, Now, closedKept: 10);

        Assert.Equal(
            [PermissionRequestStatus.Expired, PermissionRequestStatus.Pending, PermissionRequestStatus.Approved],
            requests.Select(r => r.Status));
    }

    [Fact]
    public void Expire_MoreClosedThanKept_ForgetsTheOldestClosedOnly()
    {
        var requests = new List<PermissionRequestRecord>();
        requests.Add(Request(id: "open"));
        foreach (var id in new[] { "closed-1", "closed-2", "closed-3" })
        {
            _clock.Advance(TimeSpan.FromMinutes(1));
            requests.Add(Request(PermissionRequestStatus.Approved, id));
        }

        PermissionRequests.Expire(requests, Now, closedKept: 2);

        Assert.Equal(["open", "closed-2", "closed-3"], requests.Select(r => r.RequestId));
    }

    [Fact]
    public void CheckAnswer_NewGrantWithinTheRequest_IsNull()
    {
        Assert.Null(PermissionRequests.CheckAnswer(Request(), Signed(Answer(TimeSpan.FromHours(1))), grantAccepted: false, MaxLifetime));
    }

    [Fact]
    public void CheckAnswer_GrantForAnotherAgent_IsAgentMismatch()
    {
        var grant = Signed(Answer(TimeSpan.FromHours(1)).Set("agentId", "other"));

        var failure = PermissionRequests.CheckAnswer(Request(), grant, grantAccepted: false, MaxLifetime);

        Assert.Equal(new Failure(ReasonCodes.AgentMismatch, "request req-1 is from agent bot, the grant is for other"), failure);
    }

    [Fact]
    public void CheckAnswer_Delegation_IsInvalidField()
    {
        var grant = Signed(Answer(TimeSpan.FromHours(1)).Set("parentGrantId", "g-1"));

        Assert.Equal(ReasonCodes.InvalidField, PermissionRequests.CheckAnswer(Request(), grant, grantAccepted: false, MaxLifetime)?.Code);
    }

    [Fact]
    public void CheckAnswer_IssuedBeforeTheRequestOrAcceptedBefore_IsStale()
    {
        var grant = Signed(Answer(TimeSpan.FromHours(1)));
        _clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(ReasonCodes.Stale, PermissionRequests.CheckAnswer(Request(), grant, grantAccepted: false, MaxLifetime)?.Code);
        Assert.Equal(ReasonCodes.Stale, PermissionRequests.CheckAnswer(Request(), Signed(Answer(TimeSpan.FromHours(1))), grantAccepted: true, MaxLifetime)?.Code);
    }

    [Fact]
    public void CheckAnswer_LongerThanAnElevationMayLast_IsEscalation()
    {
        var failure = PermissionRequests.CheckAnswer(Request(), Signed(Answer(MaxLifetime + TimeSpan.FromSeconds(1))), grantAccepted: false, MaxLifetime);

        Assert.Equal(ReasonCodes.Escalation, failure?.Code);
    }

    [Fact]
    public void CheckAnswer_GrantWiderThanAsked_IsEscalation()
    {
        var failure = PermissionRequests.CheckAnswer(Request(), Signed(TestDocuments.Grant("acme", "bot", Now, "elev-1")), grantAccepted: false, MaxLifetime);

        Assert.Equal(ReasonCodes.Escalation, failure?.Code);
    }

    [Fact]
    public void CheckAnswer_RequestForUnknownCapability_IsUnknownCapability()
    {
        var request = Request();
        request.Capability = "teleport";

        Assert.Equal(ReasonCodes.UnknownCapability, PermissionRequests.CheckAnswer(request, Signed(Answer(TimeSpan.FromHours(1))), grantAccepted: false, MaxLifetime)?.Code);
    }
}
