using System.Diagnostics.Metrics;
using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Abstractions.Kernel;
using AgentSecurity.Client;
using AgentSecurity.Client.Sessions;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Crypto;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests.Boundary;

/// <summary>
/// The trust boundary on a two-silo cluster: a caller is the principal its session proves, and may do what its rights
/// allow for the tenant and agent the grain is; the kernel's own methods are refused to every client. One test per
/// refusal, with the positive case beside it.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class BoundaryTests(ClusterFixture fixture)
{
    private static readonly SigningKey Service = TestKeys.FromByte(0x71);
    private static readonly SigningKey OtherService = TestKeys.FromByte(0x72);
    private static readonly SigningKey AgentKey = TestKeys.FromByte(0x73);
    private static readonly SigningKey Admin = TestKeys.FromByte(0x74);

    private DateTimeOffset Now => fixture.Now;

    /// <summary>A tenant whose agent "bot" holds a grant naming <see cref="AgentKey"/>'s DID, and "other" a plain one.</summary>
    private async Task<string> TenantAsync()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now, "g-bot").Set("agentDid", AgentKey.Did.Value).SignWith(TestKeys.Root));
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "other", Now, "g-other").SignWith(TestKeys.Root));
        return tenant;
    }

    private DocumentTemplate Access(string tenant, string principal, string rights, string accessId = "acc-1", string? agents = null)
    {
        var access = new DocumentTemplate(DocumentTypes.Access)
            .Set("accessId", accessId)
            .Set("tenantId", tenant)
            .Set("principalDid", principal)
            .SetJson("allow", $"[{string.Join(',', rights.Split(',').Select(r => $"\"{r}\""))}]")
            .Set("issuedAt", Now)
            .Set("expiresAt", Now.AddHours(1));
        return agents is null ? access : access.SetJson("agents", $"[{string.Join(',', agents.Split(',').Select(a => $"\"{a}\""))}]");
    }

    private async Task ApplyAccessAsync(string signed)
    {
        var applied = await fixture.Client.ApplyAccessAsync(signed);
        Assert.True(applied.Accepted, $"{applied.Error}: {applied.Message}");
    }

    private async Task<Decision> CheckAsAsync(string session, string tenant, string agent)
    {
        using (AgentSecurityClient.As(session))
        {
            return await fixture.Client.CheckAsync(tenant, agent, new CheckRequest("llm"));
        }
    }

    private async Task<CallRefusedException> RefusedAsync(string? session, Func<Task> call)
    {
        using var scope = session is null ? NoSession() : AgentSecurityClient.As(session);
        return await Assert.ThrowsAsync<CallRefusedException>(call);
    }

    /// <summary>A flow whose calls carry a value that is no session: the client's own session is not added over it.</summary>
    private static IDisposable NoSession() => AgentSecurityClient.As(string.Empty);

    [Fact]
    public async Task Call_WithoutASession_IsUnauthenticated()
    {
        var tenant = await TenantAsync();

        var refused = await RefusedAsync(null, () => fixture.Client.Agent(tenant, "bot").CheckAsync(new CheckRequest("llm")));

        Assert.Equal(ReasonCodes.Unauthenticated, refused.Code);
    }

    public static TheoryData<string, string> BadSessions => new()
    {
        { "expired", "expired" },
        { "not yet valid", "not yet valid" },
        { "for another cluster", "not this cluster" },
        { "signed by another key", "signedBy must equal principalDid" },
        { "altered after signing", "signature does not verify" },
        { "not a session", "not valid" },
        { "too large", "at most 4096 bytes" },
    };

    [Theory]
    [MemberData(nameof(BadSessions))]
    public async Task Call_WithABadSession_IsUnauthenticatedAndChangesNothing(string bad, string because)
    {
        var tenant = await TenantAsync();
        var audience = fixture.Cluster.Options.ServiceId;
        var session = bad switch
        {
            "expired" => ClientSession.Sign(TestKeys.Root, audience, Now.AddHours(-2), Now.AddHours(-1)),
            "not yet valid" => ClientSession.Sign(TestKeys.Root, audience, Now.AddMinutes(10), Now.AddHours(1)),
            "for another cluster" => ClientSession.Sign(TestKeys.Root, "another-cluster", Now, Now.AddHours(1)),
            "signed by another key" => new DocumentSigner(DocumentTypes.Session).Add("principalDid", TestKeys.Root.Did.Value).Add("audience", audience)
                .Add("nonce", "AAAAAAAAAAAAAAAAAAAAAA").Add("issuedAt", Now).Add("expiresAt", Now.AddHours(1)).Sign(TestKeys.Stranger),
            "altered after signing" => ClientSession.Sign(TestKeys.Root, audience, Now, Now.AddHours(1))
                .Replace(DocumentTime.ToText(Now.AddHours(1)), DocumentTime.ToText(Now.AddHours(2)), StringComparison.Ordinal),
            "not a session" => "{\"hello\":1}",
            _ => new string('x', 5000),
        };

        var refused = await RefusedAsync(session, () => fixture.Client.Agent(tenant, "bot").ApplyGrantAsync(TestDocuments.Grant(tenant, "bot", Now, "g-new").SignWith(TestKeys.Root)));

        Assert.Equal(ReasonCodes.Unauthenticated, refused.Code);
        Assert.Contains(because, refused.Message, StringComparison.Ordinal);
        Assert.Equal("g-bot", (await fixture.Client.GetStatusAsync(tenant, "bot")).GrantId);
    }

    [Fact]
    public async Task Root_OfTheTenant_MayDoEverythingThereButNothingInAnotherTenant()
    {
        var tenant = await TenantAsync();
        var other = await TenantAsync();
        var root = fixture.SessionOf(TestKeys.Root);
        var otherRoot = fixture.SessionOf(TestKeys.OtherRoot);
        var isolated = await fixture.NewTenantAsync(TestKeys.OtherRoot);
        await fixture.ApplyAsync(TestDocuments.Grant(isolated, "bot", Now).SignWith(TestKeys.OtherRoot));

        Assert.True((await CheckAsAsync(root, tenant, "bot")).Allowed);
        Assert.True((await CheckAsAsync(root, other, "other")).Allowed); // TestKeys.Root is a root of both
        Assert.Equal(ReasonCodes.Forbidden, (await CheckAsAsync(root, isolated, "bot")).Reason);
        Assert.True((await CheckAsAsync(otherRoot, isolated, "bot")).Allowed);
    }

    [Fact]
    public async Task ChargeUsage_ByARootOfAnotherTenant_IsForbiddenAndChargesNothing()
    {
        var isolated = await fixture.NewTenantAsync(TestKeys.OtherRoot);
        await fixture.ApplyAsync(TestDocuments.Grant(isolated, "bot", Now).SetJson("resourceLimits", """{"llmTokensPerHour":100}""").SignWith(TestKeys.OtherRoot));

        using (AgentSecurityClient.As(fixture.SessionOf(TestKeys.Root)))
        {
            var refused = await Assert.ThrowsAsync<CallRefusedException>(() => fixture.Client.Agent(isolated, "bot").ChargeUsageAsync(new CheckRequest(Capabilities.Llm, amount: 100)));
            Assert.Equal(ReasonCodes.Forbidden, refused.Code);
        }

        using (AgentSecurityClient.As(fixture.SessionOf(TestKeys.OtherRoot)))
        {
            var whole = await fixture.Client.Agent(isolated, "bot").CheckAsync(new CheckRequest(Capabilities.Llm, amount: 100));
            Assert.True(whole.Allowed, $"{whole.Reason}: {whole.Message}"); // the whole budget is still there
        }
    }

    [Fact]
    public async Task SelectAllowed_ByAnotherTenantsRootOrAnotherAgent_IsForbidden()
    {
        // What a gateway asks to filter a listing decides without recording: only who may check for the agent may ask.
        var tenant = await TenantAsync();
        var isolated = await fixture.NewTenantAsync(TestKeys.OtherRoot);
        await fixture.ApplyAsync(TestDocuments.Grant(isolated, "bot", Now).SignWith(TestKeys.OtherRoot));
        IReadOnlyList<CheckRequest> read = [CheckRequests.ReadFile("/workspace/a")];

        async Task<string> AskAsync(SigningKey caller, string agentTenant, string agent)
        {
            using (AgentSecurityClient.As(fixture.SessionOf(caller)))
            {
                try
                {
                    return string.Join(",", await fixture.Client.Agent(agentTenant, agent).SelectAllowedAsync(read));
                }
                catch (CallRefusedException refused)
                {
                    return refused.Code;
                }
            }
        }

        Assert.Equal(ReasonCodes.Forbidden, await AskAsync(TestKeys.Root, isolated, "bot"));
        Assert.Equal(ReasonCodes.Forbidden, await AskAsync(AgentKey, tenant, "other"));
        Assert.Equal("True", await AskAsync(TestKeys.OtherRoot, isolated, "bot"));
        Assert.Equal("True", await AskAsync(AgentKey, tenant, "bot"));
    }

    [Fact]
    public async Task LiveAdmin_MayCallForItsTenant_UntilItsRegistrationEnds()
    {
        var tenant = await TenantAsync();
        var registered = await fixture.Client.RegisterAdminAsync(TestDocuments.Admin(tenant, Admin.Did.Value, Now, TestDocuments.ReadOnlyFiles, Now.AddMinutes(10)).SignWith(TestKeys.Root));
        Assert.True(registered.Accepted, $"{registered.Error}: {registered.Message}");

        Assert.True((await CheckAsAsync(fixture.SessionOf(Admin), tenant, "bot")).Allowed);
        ClusterFixture.Time.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(ReasonCodes.Forbidden, (await CheckAsAsync(fixture.SessionOf(Admin), tenant, "bot")).Reason);
    }

    [Fact]
    public async Task AgentDid_ChecksAndAsksForItsOwnAgent_AndNothingElse()
    {
        var tenant = await TenantAsync();
        var session = fixture.SessionOf(AgentKey);

        Assert.True((await CheckAsAsync(session, tenant, "bot")).Allowed);
        using (AgentSecurityClient.As(session))
        {
            var asked = await fixture.Client.RequestPermissionAsync(tenant, "bot", new PermissionRequestInput { Capability = "vectorDb", Justification = "search notes" });
            Assert.True(asked.Recorded, $"{asked.Error}: {asked.Message}");
            Assert.Equal(ReasonCodes.Forbidden, (await fixture.Client.CheckAsync(tenant, "other", new CheckRequest("llm"))).Reason);
            Assert.Equal(ReasonCodes.Forbidden, (await fixture.Client.ExecuteAsync(tenant, "bot", new ExecutionRequest { Runtime = "js", Code = "1"u8.ToArray() })).Error);
            Assert.Equal(ReasonCodes.Forbidden, (await Assert.ThrowsAsync<CallRefusedException>(() => fixture.Client.Agent(tenant, "bot").GetMemoryAsync("notes/a"))).Code);
            Assert.Equal(ReasonCodes.Forbidden, (await fixture.Client.ApplyGrantAsync(TestDocuments.Grant(tenant, "bot", Now, "g-self").SignWith(TestKeys.Root))).Error);
        }
    }

    [Fact]
    public async Task AccessDocument_GivesItsRightsForItsAgents_AndNoMore()
    {
        var tenant = await TenantAsync();
        await ApplyAccessAsync(Access(tenant, Service.Did.Value, "check,audit", agents: "b*").SignWith(TestKeys.Root));
        var session = fixture.SessionOf(Service);

        Assert.True((await CheckAsAsync(session, tenant, "bot")).Allowed);
        Assert.Equal(ReasonCodes.Forbidden, (await CheckAsAsync(session, tenant, "other")).Reason); // "b*" does not cover it
        using (AgentSecurityClient.As(session))
        {
            Assert.Equal(ReasonCodes.Forbidden, (await fixture.Client.ExecuteAsync(tenant, "bot", new ExecutionRequest { Runtime = "js", Code = "1"u8.ToArray() })).Error); // no execute right
            // The audit right with an agents list covers agents, not the tenant's whole log.
            Assert.Equal(ReasonCodes.Forbidden, (await Assert.ThrowsAsync<CallRefusedException>(() => fixture.Client.Audit(tenant).GetHeadAsync())).Code);
        }
    }

    [Fact]
    public async Task AccessDocument_ForTenantB_GivesNothingInTenantA()
    {
        var tenantA = await TenantAsync();
        var tenantB = await TenantAsync();
        await ApplyAccessAsync(Access(tenantB, Service.Did.Value, "check,execute,memory,apply,audit,requests").SignWith(TestKeys.Root));
        var session = fixture.SessionOf(Service);

        Assert.True((await CheckAsAsync(session, tenantB, "bot")).Allowed);
        Assert.Equal(ReasonCodes.Forbidden, (await CheckAsAsync(session, tenantA, "bot")).Reason);
        using (AgentSecurityClient.As(session))
        {
            Assert.Equal(ReasonCodes.Forbidden, (await fixture.Client.ExecuteAsync(tenantA, "bot", new ExecutionRequest { Runtime = "js", Code = "1"u8.ToArray() })).Error);
            Assert.Equal(ReasonCodes.Forbidden, (await Assert.ThrowsAsync<CallRefusedException>(() => fixture.Client.Agent(tenantA, "bot").GetMemoryAsync("notes/a"))).Code);
            Assert.Equal(ReasonCodes.Forbidden, (await Assert.ThrowsAsync<CallRefusedException>(() => fixture.Client.Audit(tenantA).ReadAsync(1, 10))).Code);
            Assert.Equal(ReasonCodes.Forbidden, (await Assert.ThrowsAsync<CallRefusedException>(() => fixture.Client.SubscribeAsync(tenantA, _ => Task.CompletedTask))).Code);
            Assert.Equal(ReasonCodes.Forbidden, (await fixture.Client.QuarantineAsync(TestDocuments.Quarantine(tenantA, "bot", Now).SignWith(TestKeys.Root))).Error);
        }

        Assert.Equal(AgentState.Active, (await fixture.Client.GetStatusAsync(tenantA, "bot")).State);
    }

    [Fact]
    public async Task AccessDocument_Revoked_EndsOnEverySiloBeforeTheRevocationReturns()
    {
        var tenant = await TenantAsync();
        await ApplyAccessAsync(Access(tenant, Service.Did.Value, "check", "acc-revoked").SignWith(TestKeys.Root));
        var session = fixture.SessionOf(Service);
        for (var i = 0; i < 20; i++)
        {
            Assert.True((await CheckAsAsync(session, tenant, i % 2 == 0 ? "bot" : "other")).Allowed); // each silo keeps a copy now
        }

        var revoked = await fixture.Client.RevokeAsync(TestDocuments.Revocation(tenant, "acc-revoked", Now).SignWith(TestKeys.Root));
        Assert.True(revoked.Revoked && revoked.Propagated, $"{revoked.Error}: {revoked.Message}");

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(ReasonCodes.Forbidden, (await CheckAsAsync(session, tenant, i % 2 == 0 ? "bot" : "other")).Reason);
        }
    }

    [Fact]
    public async Task AccessDocument_Expired_GivesNothing()
    {
        var tenant = await TenantAsync();
        await ApplyAccessAsync(Access(tenant, Service.Did.Value, "check", "acc-short").Set("expiresAt", Now.AddMinutes(5)).SignWith(TestKeys.Root));
        Assert.True((await CheckAsAsync(fixture.SessionOf(Service), tenant, "bot")).Allowed);

        ClusterFixture.Time.Advance(TimeSpan.FromMinutes(6));

        Assert.Equal(ReasonCodes.Forbidden, (await CheckAsAsync(fixture.SessionOf(Service), tenant, "bot")).Reason);
    }

    public static TheoryData<string, string> BadAccessDocuments => new()
    {
        { "signed by a stranger", ReasonCodes.UntrustedSigner },
        { "for another tenant", ReasonCodes.TenantMismatch },
        { "expired", ReasonCodes.Expired },
        { "no rights", ReasonCodes.InvalidField },
        { "unknown right", ReasonCodes.InvalidField },
        { "agents not ids", ReasonCodes.InvalidField },
    };

    [Theory]
    [MemberData(nameof(BadAccessDocuments))]
    public async Task ApplyAccess_BadDocument_IsRefusedAndGivesNothing(string bad, string code)
    {
        var tenant = await TenantAsync();
        var access = Access(tenant, OtherService.Did.Value, "check", $"acc-{bad.Replace(' ', '-')}");
        var signed = bad switch
        {
            "signed by a stranger" => access.SignWith(TestKeys.Stranger),
            "for another tenant" => access.Set("tenantId", "someone-else").SignWith(TestKeys.Root),
            "expired" => access.Set("issuedAt", Now.AddHours(-2)).Set("expiresAt", Now.AddHours(-1)).SignWith(TestKeys.Root),
            "no rights" => access.SetJson("allow", "[]").SignWith(TestKeys.Root),
            "unknown right" => access.SetJson("allow", "[\"check\",\"everything\"]").SignWith(TestKeys.Root),
            _ => access.SetJson("agents", "[\"bot/../other\"]").SignWith(TestKeys.Root),
        };

        var applied = bad == "for another tenant"
            ? await fixture.Client.Issuer(tenant).ApplyAccessAsync(signed)
            : await fixture.Client.ApplyAccessAsync(signed);

        Assert.Equal(code, applied.Error);
        Assert.Equal(ReasonCodes.Forbidden, (await CheckAsAsync(fixture.SessionOf(OtherService), tenant, "bot")).Reason);
    }

    [Fact]
    public async Task AccessDocument_SignedByAnAdmin_EndsNoLaterThanTheAdmin()
    {
        var tenant = await TenantAsync();
        var registered = await fixture.Client.RegisterAdminAsync(TestDocuments.Admin(tenant, Admin.Did.Value, Now, TestDocuments.ReadOnlyFiles, Now.AddMinutes(10)).SignWith(TestKeys.Root));
        Assert.True(registered.Accepted, $"{registered.Error}: {registered.Message}");

        var beyond = await fixture.Client.ApplyAccessAsync(Access(tenant, Service.Did.Value, "check", "acc-long").SignWith(Admin)); // an hour
        Assert.Equal(ReasonCodes.Escalation, beyond.Error);
        Assert.Equal(ReasonCodes.Forbidden, (await CheckAsAsync(fixture.SessionOf(Service), tenant, "bot")).Reason);

        await ApplyAccessAsync(Access(tenant, Service.Did.Value, "check", "acc-short").Set("expiresAt", Now.AddMinutes(10)).SignWith(Admin));
        Assert.True((await CheckAsAsync(fixture.SessionOf(Service), tenant, "bot")).Allowed);
    }

    [Fact]
    public async Task AccessIdAndGrantId_TheSameId_IsRefusedEitherWay()
    {
        var tenant = await TenantAsync();

        Assert.Equal(ReasonCodes.Replayed, (await fixture.Client.ApplyAccessAsync(Access(tenant, Service.Did.Value, "check", "g-bot").SignWith(TestKeys.Root))).Error);

        await ApplyAccessAsync(Access(tenant, Service.Did.Value, "check", "shared-id").SignWith(TestKeys.Root));
        Assert.Equal(ReasonCodes.Replayed, (await fixture.Client.ApplyGrantAsync(TestDocuments.Grant(tenant, "bot", Now, "shared-id").SignWith(TestKeys.Root))).Error);
    }

    [Fact]
    public async Task AccessForEveryTenant_SignedByTheOperator_CoversEveryTenant_AndARootCannotSignOne()
    {
        var tenantA = await TenantAsync();
        var tenantB = await TenantAsync();
        var everywhere = TestKeys.FromByte(0x75);
        var byRoot = await fixture.Client.ApplyAccessAsync(Access("*", everywhere.Did.Value, "check", "acc-star-root").SignWith(TestKeys.Root));
        Assert.Equal(ReasonCodes.UntrustedSigner, byRoot.Error);
        Assert.Equal(ReasonCodes.Forbidden, (await CheckAsAsync(fixture.SessionOf(everywhere), tenantA, "bot")).Reason);

        await ApplyAccessAsync(Access("*", everywhere.Did.Value, "check", "acc-star").SignWith(TestKeys.Operator));

        Assert.True((await CheckAsAsync(fixture.SessionOf(everywhere), tenantA, "bot")).Allowed);
        Assert.True((await CheckAsAsync(fixture.SessionOf(everywhere), tenantB, "other")).Allowed);
        var revoked = await fixture.Client.RevokeAsync(TestDocuments.Revocation("*", "acc-star", Now).SignWith(TestKeys.Operator));
        Assert.True(revoked.Revoked, $"{revoked.Error}: {revoked.Message}");
        Assert.Equal(ReasonCodes.Forbidden, (await CheckAsAsync(fixture.SessionOf(everywhere), tenantA, "bot")).Reason);
    }

    [Fact]
    public async Task CreateTenant_NeedsApplyForEveryTenant_NotARootOfAnother()
    {
        var tenant = "new-" + Guid.NewGuid().ToString("N")[..10];
        var document = TestDocuments.Tenant(tenant, Now, TestKeys.Root.Did.Value).SignWith(TestKeys.Operator);

        using (AgentSecurityClient.As(fixture.SessionOf(TestKeys.Root)))
        {
            Assert.Equal(ReasonCodes.Forbidden, (await fixture.Client.CreateTenantAsync(document)).Error);
        }

        Assert.True((await fixture.Client.CreateTenantAsync(document)).Created); // the operator
    }

    [Fact]
    public async Task OperatorLimits_BroughtByARoot_AreForbidden_AndTheOperatorMayBringThem()
    {
        var tenant = await TenantAsync();
        var limits = TestDocuments.Limits(tenant, Now, """{"llmTokensPerHour":1000}""").SignWith(TestKeys.Operator);

        using (AgentSecurityClient.As(fixture.SessionOf(TestKeys.Root)))
        {
            Assert.Equal(ReasonCodes.Forbidden, (await fixture.Client.Issuer(tenant).SetTenantLimitsAsync(limits)).Error);
        }

        Assert.Null((await fixture.Client.Issuer(tenant).GetTenantLimitsAsync()).IssuedAt);
        var set = await fixture.Client.Issuer(tenant).SetTenantLimitsAsync(limits); // the operator
        Assert.True(set.Accepted, $"{set.Error}: {set.Message}");
    }

    public static TheoryData<string> SealedCalls => new()
    {
        "IAuditKernelGrain.AppendAsync",
        "IAgentKernelGrain.QuarantineByRuleAsync",
        "IAgentKernelGrain.NotifyRevokedAsync",
        "IAgentKernelGrain.GetActiveGrantAsync",
        "IAgentKernelGrain.NotifyTenantLimitsChangedAsync",
        "ITenantQuotaKernelGrain.LeaseAsync",
        "ITenantQuotaKernelGrain.ReadLimitsAsync",
        "ITenantQuotaKernelGrain.RefreshAsync",
        "ITenantQuotaKernelGrain.NotifyLimitReadersAsync",
        "IIssuerKernelGrain.RecordRequestAsync",
        "IIssuerKernelGrain.VerifyGrantAsync",
        "IIssuerKernelGrain.GetCallersAsync",
        "ICallerCacheRegistryGrain.ForgetAsync",
    };

    /// <summary>The kernel's own methods are refused to every client, the operator included, and change nothing.</summary>
    [Theory]
    [MemberData(nameof(SealedCalls))]
    public async Task KernelMethod_CalledByAClient_IsForbiddenWhateverItsSession(string method)
    {
        var tenant = await TenantAsync();
        var grains = fixture.Cluster.Client;
        Func<Task> call = method switch
        {
            "IAuditKernelGrain.AppendAsync" => () => grains.GetGrain<IAuditKernelGrain>(tenant).AppendAsync([Forged(tenant)]),
            "IAgentKernelGrain.QuarantineByRuleAsync" => () => grains.GetGrain<IAgentKernelGrain>($"{tenant}/bot").QuarantineByRuleAsync("forged", "no rule fired"),
            "IAgentKernelGrain.NotifyRevokedAsync" => () => grains.GetGrain<IAgentKernelGrain>($"{tenant}/bot").NotifyRevokedAsync("g-bot"),
            "IAgentKernelGrain.GetActiveGrantAsync" => () => grains.GetGrain<IAgentKernelGrain>($"{tenant}/bot").GetActiveGrantAsync("g-bot"),
            "IAgentKernelGrain.NotifyTenantLimitsChangedAsync" => () => grains.GetGrain<IAgentKernelGrain>($"{tenant}/bot").NotifyTenantLimitsChangedAsync(),
            "ITenantQuotaKernelGrain.LeaseAsync" => () => grains.GetGrain<ITenantQuotaKernelGrain>(tenant).LeaseAsync("bot", "llmTokensPerHour", 1, 1_000_000, 0),
            "ITenantQuotaKernelGrain.ReadLimitsAsync" => () => grains.GetGrain<ITenantQuotaKernelGrain>(tenant).ReadLimitsAsync("bot"),
            "ITenantQuotaKernelGrain.RefreshAsync" => () => grains.GetGrain<ITenantQuotaKernelGrain>(tenant).RefreshAsync(),
            "ITenantQuotaKernelGrain.NotifyLimitReadersAsync" => () => grains.GetGrain<ITenantQuotaKernelGrain>(tenant).NotifyLimitReadersAsync(),
            "IIssuerKernelGrain.RecordRequestAsync" => () => grains.GetGrain<IIssuerKernelGrain>(tenant).RecordRequestAsync("bot", new PermissionRequestInput { Capability = "llm", Justification = "forged" }),
            "IIssuerKernelGrain.VerifyGrantAsync" => () => grains.GetGrain<IIssuerKernelGrain>(tenant).VerifyGrantAsync(TestDocuments.Grant(tenant, "bot", Now, "g-forged").SignWith(TestKeys.Root)),
            "IIssuerKernelGrain.GetCallersAsync" => () => grains.GetGrain<IIssuerKernelGrain>(tenant).GetCallersAsync(),
            _ => () => grains.GetGrain<ICallerCacheRegistryGrain>(0).ForgetAsync(tenant),
        };

        var refused = await Assert.ThrowsAsync<CallRefusedException>(call); // as the operator, the tests' client
        Assert.Equal(ReasonCodes.Forbidden, refused.Code);
        Assert.Contains("kernel's own", refused.Message, StringComparison.Ordinal);

        Assert.Equal(AgentState.Active, (await fixture.Client.GetStatusAsync(tenant, "bot")).State);
        Assert.DoesNotContain(fixture.AuditLog.Records(tenant), r => r.EventJson.Contains("forged", StringComparison.Ordinal));
        Assert.Empty(await fixture.Client.ListRequestsAsync(tenant));
    }

    [Fact]
    public async Task Client_KernelTokenInItsRequestContext_NeverSendsIt()
    {
        // However it got there (a stream message's request context, say), a client never speaks for the kernel.
        var tenant = await TenantAsync();
        RequestContext.Set(CallerContext.KernelKey, fixture.KernelToken);
        try
        {
            Assert.Equal(ReasonCodes.Forbidden, (await Assert.ThrowsAsync<CallRefusedException>(() => fixture.Cluster.Client.GetGrain<IAuditKernelGrain>(tenant).AppendAsync([Forged(tenant)]))).Code);
        }
        finally
        {
            RequestContext.Remove(CallerContext.KernelKey);
        }
    }

    [Fact]
    public async Task KernelToken_Guessed_IsNoToken()
    {
        var tenant = await TenantAsync();
        RequestContext.Set(ClusterFixture.PlaysKernelKey, new string('A', fixture.KernelToken.Length));
        try
        {
            Assert.Equal(ReasonCodes.Forbidden, (await Assert.ThrowsAsync<CallRefusedException>(() => fixture.Cluster.Client.GetGrain<IAuditKernelGrain>(tenant).AppendAsync([Forged(tenant)]))).Code);
        }
        finally
        {
            RequestContext.Remove(ClusterFixture.PlaysKernelKey);
        }
    }

    [Fact]
    public async Task PrincipalInTheRequestContext_SetByAClient_IsOverwrittenByTheVerifiedOne()
    {
        var tenant = await TenantAsync();
        RequestContext.Set(CallerContext.PrincipalKey, TestKeys.Operator.Did.Value);
        try
        {
            // A stranger claiming to be the operator in the context it sends is still only the stranger.
            Assert.Equal(ReasonCodes.Forbidden, (await CheckAsAsync(fixture.SessionOf(TestKeys.Stranger), tenant, "bot")).Reason);
        }
        finally
        {
            RequestContext.Remove(CallerContext.PrincipalKey);
        }
    }

    /// <summary>
    /// The audit grain calls a subscriber's observer: that call must not carry what proves a kernel call, nor the session of
    /// the caller whose check made the event (a bearer credential the subscriber could replay).
    /// </summary>
    [Fact]
    public async Task EventSubscriber_ReceivesNeitherTheKernelTokenNorTheSessionOfTheCallerBehindTheEvent()
    {
        var tenant = await TenantAsync();
        await ApplyAccessAsync(Access(tenant, Service.Did.Value, "check").SignWith(TestKeys.Root));
        var seen = new TaskCompletionSource<(object? Kernel, object? Session, object? Principal)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await fixture.Client.SubscribeAsync(tenant, e =>
        {
            if (e.Type == SecurityEventTypes.CheckDenied)
            {
                seen.TrySetResult((RequestContext.Get(CallerContext.KernelKey), RequestContext.Get(CallerContext.SessionKey), RequestContext.Get(CallerContext.PrincipalKey)));
            }

            return Task.CompletedTask;
        });

        using (AgentSecurityClient.As(fixture.SessionOf(Service)))
        {
            Assert.Equal(ReasonCodes.OutOfScope, (await fixture.Client.CheckAsync(tenant, "bot", new CheckRequest("fileSystem:read", "/etc/passwd"))).Reason);
        }

        var (kernel, session, principal) = await seen.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Null(kernel);
        Assert.Null(session);
        Assert.Null(principal);
    }

    /// <summary>
    /// A subscriber is called back by the tenant's log: a client may hand it only an observer of its own. Another client's
    /// would get the tenant's events; its own under another hash would be answered by frames its gateway refuses as forged.
    /// </summary>
    [Fact]
    public async Task Subscribe_AnObserverNotTheCallersOwn_IsForbiddenAndSubscribesNothing()
    {
        var tenant = await TenantAsync();
        var client = fixture.Cluster.Client;
        var stream = client.GetGrain<IAuditStreamGrain>(tenant);
        // Orleans holds a client's observer weakly: kept alive here, or a collection would remove it mid-test.
        var observer = new NoEvents();
        var own = client.CreateObjectReference<ISecurityEventObserver>(observer);
        var ownId = own.GetGrainId();
        var others = new[]
        {
            GrainId.Create(GrainTypePrefix.ClientGrainType, "0bad0bad0bad0bad0bad0bad0bad0bad+0b5e7e7a0b5e7e7a0b5e7e7a0b5e7e7a"),
            new GrainId(ownId.Type, IdSpan.UnsafeCreate(ownId.Key.AsSpan().ToArray(), ownId.Key.GetHashCode() ^ 0x5A5A5A5A)),
        };

        try
        {
            using (AgentSecurityClient.As(fixture.SessionOf(TestKeys.Root)))
            {
                foreach (var other in others)
                {
                    var refused = await Assert.ThrowsAsync<CallRefusedException>(() => stream.SubscribeAsync(client.GetGrain<ISecurityEventObserver>(other), 0));
                    Assert.Equal(ReasonCodes.Forbidden, refused.Code);
                }

                Assert.Equal(ReasonCodes.Forbidden, (await Assert.ThrowsAsync<CallRefusedException>(() => stream.SubscribeAsync(null!, 0))).Code);

                // The caller's own observer is taken.
                await stream.SubscribeAsync(own, 0);
                await stream.UnsubscribeAsync(own);
            }
        }
        finally
        {
            client.DeleteObjectReference<ISecurityEventObserver>(own);
            GC.KeepAlive(observer);
        }
    }

    private sealed class NoEvents : ISecurityEventObserver
    {
        public Task OnEventsAsync(IReadOnlyList<LoggedEvent> events) => Task.CompletedTask;
    }

    [Fact]
    public async Task Refusals_AreCountedByReason()
    {
        var tenant = await TenantAsync();
        var counted = new Dictionary<string, long>(StringComparer.Ordinal);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Telemetry.AgentSecurityMetrics.MeterName && instrument.Name == "agentsec.calls.refused")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "reason")
                {
                    lock (counted)
                    {
                        counted[(string)tag.Value!] = counted.GetValueOrDefault((string)tag.Value!) + value;
                    }
                }
            }
        });
        listener.Start();

        await RefusedAsync(null, () => fixture.Client.Agent(tenant, "bot").CheckAsync(new CheckRequest("llm")));
        await CheckAsAsync(fixture.SessionOf(TestKeys.Stranger), tenant, "bot");

        lock (counted)
        {
            Assert.True(counted.GetValueOrDefault(ReasonCodes.Unauthenticated) >= 1, string.Join(", ", counted));
            Assert.True(counted.GetValueOrDefault(ReasonCodes.Forbidden) >= 1, string.Join(", ", counted));
        }
    }

    private static DecisionEvent Forged(string tenant) => new()
    {
        Id = $"forged-{Guid.NewGuid():N}",
        Type = SecurityEventTypes.CheckDenied,
        TenantId = tenant,
        AgentId = "bot",
        Capability = "llm",
        Reason = ReasonCodes.OutOfScope,
        Message = "forged",
    };
}
