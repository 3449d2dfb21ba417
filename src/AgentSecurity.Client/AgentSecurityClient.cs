using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;
using Orleans.Streams;

namespace AgentSecurity.Client;

/// <summary>
/// What applications call: typed access to tenants, grants, checks and the grant lifecycle over an
/// <see cref="IClusterClient"/>. Nothing here throws for a refusal or an unreachable cluster: refusals come back with
/// their codes, and a check that cannot be decided is denied with <c>unavailable</c>, so a caller that forgets a
/// catch still fails closed. Documents are parsed here only to route them; the grains parse and verify again.
/// </summary>
public sealed class AgentSecurityClient(IClusterClient cluster)
{
    public IAgentGrain Agent(string tenantId, string agentId) => cluster.GetGrain<IAgentGrain>(AgentKey.Of(tenantId, agentId));

    public IGrantIssuerGrain Issuer(string tenantId) => cluster.GetGrain<IGrantIssuerGrain>(tenantId);

    /// <summary>Sends a signed tenant document to the issuer of the tenant it names.</summary>
    public Task<TenantResult> CreateTenantAsync(string signedTenant) =>
        Route(TenantDocument.Parse(signedTenant), d => d.TenantId,
            (d, issuer) => issuer.CreateTenantAsync(signedTenant),
            (tenant, f) => new TenantResult { TenantId = tenant, Error = f.Code, Message = f.Message });

    /// <summary>Sends a signed grant to the agent it names.</summary>
    public async Task<ApplyGrantResult> ApplyGrantAsync(string signedGrant)
    {
        var parsed = GrantDocument.Parse(signedGrant);
        if (!parsed.Succeeded)
        {
            return ApplyGrantResult.Refused(string.Empty, parsed.Failure.Code, parsed.Failure.Message);
        }

        var grant = parsed.Value;
        var agent = AgentKey.Of(grant.TenantId, grant.AgentId);
        return await Guard(() => cluster.GetGrain<IAgentGrain>(agent).ApplyGrantAsync(signedGrant),
            problem => ApplyGrantResult.Refused(agent, ReasonCodes.Unavailable, problem, grant.GrantId));
    }

    /// <summary>Answers a permission request: installs the admin's time-boxed grant on the agent it names.</summary>
    public async Task<ApplyGrantResult> ApplyElevationAsync(string requestId, string signedGrant)
    {
        var parsed = GrantDocument.Parse(signedGrant);
        if (!parsed.Succeeded)
        {
            return ApplyGrantResult.Refused(string.Empty, parsed.Failure.Code, parsed.Failure.Message);
        }

        var agent = AgentKey.Of(parsed.Value.TenantId, parsed.Value.AgentId);
        return await Guard(() => cluster.GetGrain<IAgentGrain>(agent).ApplyElevationAsync(requestId, signedGrant),
            problem => ApplyGrantResult.Refused(agent, ReasonCodes.Unavailable, problem, parsed.Value.GrantId));
    }

    public Task<DocumentResult> RegisterAdminAsync(string signedAdmin) =>
        Route(AdminDocument.Parse(signedAdmin), d => d.TenantId, (d, issuer) => issuer.RegisterAdminAsync(signedAdmin), (_, f) => DocumentResult.Refuse(f.Code, f.Message));

    public Task<DocumentResult> RotateRootAsync(string signedRotation) =>
        Route(RotationDocument.Parse(signedRotation), d => d.TenantId, (d, issuer) => issuer.RotateRootAsync(signedRotation), (_, f) => DocumentResult.Refuse(f.Code, f.Message));

    public Task<RevocationResult> RevokeAsync(string signedRevocation) =>
        Route(RevocationDocument.Parse(signedRevocation), d => d.TenantId, (d, issuer) => issuer.RevokeAsync(signedRevocation), (_, f) => new RevocationResult { Error = f.Code, Message = f.Message });

    public async Task<QuarantineResult> QuarantineAsync(string signedQuarantine)
    {
        var parsed = QuarantineDocument.Parse(signedQuarantine);
        if (!parsed.Succeeded)
        {
            return new QuarantineResult { Agent = string.Empty, Error = parsed.Failure.Code, Message = parsed.Failure.Message };
        }

        var agent = AgentKey.Of(parsed.Value.TenantId, parsed.Value.AgentId);
        return await Guard(() => cluster.GetGrain<IAgentGrain>(agent).QuarantineAsync(signedQuarantine),
            problem => new QuarantineResult { Agent = agent, Error = ReasonCodes.Unavailable, Message = problem });
    }

    public Task<Decision> CheckAsync(string tenantId, string agentId, CheckRequest request) =>
        WithAgent(tenantId, agentId, a => a.CheckAsync(request), (reason, message) => Decision.Deny(reason, message));

    public Task<Explanation> ExplainAsync(string tenantId, string agentId, CheckRequest request) =>
        WithAgent(tenantId, agentId, a => a.ExplainAsync(request), (reason, message) => new Explanation { Decision = Decision.Deny(reason, message), DecidedBy = "client" });

    public Task<Explanation> WhatIfAsync(string tenantId, string agentId, CheckRequest request, string proposedGrant) =>
        WithAgent(tenantId, agentId, a => a.WhatIfAsync(request, proposedGrant), (reason, message) => new Explanation { Decision = Decision.Deny(reason, message), DecidedBy = "client" });

    /// <summary>Runs agent code in the cluster's sandbox for the grant's isolation level; refusals and failures come back as codes.</summary>
    public Task<ExecutionResult> ExecuteAsync(string tenantId, string agentId, ExecutionRequest request) =>
        WithAgent(tenantId, agentId, a => a.ExecuteAsync(request), (reason, message) => ExecutionResult.Refused(reason, message));

    public Task<PermissionRequestResult> RequestPermissionAsync(string tenantId, string agentId, PermissionRequestInput request) =>
        WithAgent(tenantId, agentId, a => a.RequestPermissionAsync(request), (reason, message) => new PermissionRequestResult { Error = reason, Message = message });

    public Task<IReadOnlyList<PermissionRequestInfo>> ListRequestsAsync(string tenantId) => Issuer(tenantId).ListRequestsAsync();

    public Task<AgentStatus> GetStatusAsync(string tenantId, string agentId) => Agent(tenantId, agentId).GetStatusAsync();

    public Task<TenantInfo?> GetTenantAsync(string tenantId) => Issuer(tenantId).GetTenantAsync();

    public IAuditStreamGrain Audit(string tenantId) => cluster.GetGrain<IAuditStreamGrain>(tenantId);

    /// <summary>
    /// Receives every security event of a tenant as it is published, from any silo. Needs the audit stream provider on
    /// this client (<see cref="AgentSecurityClientBuilderExtensions.UseAgentSecurityAuditStream"/>); dispose the
    /// returned subscription to stop. Delivery is at least once: the same event id can arrive twice.
    /// </summary>
    public async Task<IAsyncDisposable> SubscribeAsync(string tenantId, Func<SecurityEvent, Task> onEvent)
    {
        var stream = cluster.GetStreamProvider(AuditStreams.ProviderName).GetStream<SecurityEvent>(AuditStreams.For(tenantId));
        var handle = await stream.SubscribeAsync((e, _) => onEvent(e));
        return new Subscription(handle);
    }

    private sealed class Subscription(StreamSubscriptionHandle<SecurityEvent> handle) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await handle.UnsubscribeAsync();
    }

    private Task<T> WithAgent<T>(string tenantId, string agentId, Func<IAgentGrain, Task<T>> call, Func<string, string, T> refuse) =>
        !Identifiers.IsTenantId(tenantId) || !Identifiers.IsAgentId(agentId)
            ? Task.FromResult(refuse(ReasonCodes.NoGrant, $"\"{tenantId}/{agentId}\" is not an agent"))
            : Guard(() => call(Agent(tenantId, agentId)), problem => refuse(ReasonCodes.Unavailable, problem));

    private async Task<T> Route<TDocument, T>(Result<TDocument> parsed, Func<TDocument, string> tenantOf, Func<TDocument, IGrantIssuerGrain, Task<T>> call, Func<string, Failure, T> refuse)
    {
        if (!parsed.Succeeded)
        {
            return refuse(string.Empty, parsed.Failure);
        }

        var tenant = tenantOf(parsed.Value);
        return await Guard(() => call(parsed.Value, Issuer(tenant)), problem => refuse(tenant, new Failure(ReasonCodes.Unavailable, problem)));
    }

    private static async Task<T> Guard<T>(Func<Task<T>> call, Func<string, T> unavailable)
    {
        try
        {
            return await call();
        }
#pragma warning disable CA1031 // Any transport failure is "unavailable" to the caller.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return unavailable($"the cluster could not be reached or did not answer ({e.GetType().Name}: {e.Message})");
        }
    }
}
