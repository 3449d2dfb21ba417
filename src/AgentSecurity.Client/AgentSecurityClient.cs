using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;

namespace AgentSecurity.Client;

/// <summary>
/// What applications call: typed access to tenants, grants, checks and the grant lifecycle over an
/// <see cref="IClusterClient"/>. Nothing here throws for a refusal or an unreachable cluster: refusals come back with
/// their codes, and a check that cannot be decided is denied with <c>unavailable</c>, so a caller that forgets a
/// catch still fails closed. Documents are parsed here only to route them; the grains parse and verify again.
/// </summary>
public sealed class AgentSecurityClient(IClusterClient cluster)
{
    /// <summary>
    /// Makes the calls of the current flow act as another principal, until the returned scope is disposed: a platform
    /// service answering for its own callers, each with a session of theirs. The session is sent as it is; the cluster
    /// verifies it like any other.
    /// </summary>
    public static IDisposable As(string session) => CallerContext.UseSession(session);

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
            (code, problem) => ApplyGrantResult.Refused(agent, code, problem, grant.GrantId));
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
            (code, problem) => ApplyGrantResult.Refused(agent, code, problem, parsed.Value.GrantId));
    }

    public Task<DocumentResult> RegisterAdminAsync(string signedAdmin) =>
        Route(AdminDocument.Parse(signedAdmin), d => d.TenantId, (d, issuer) => issuer.RegisterAdminAsync(signedAdmin), (_, f) => DocumentResult.Refuse(f.Code, f.Message));

    public Task<DocumentResult> RotateRootAsync(string signedRotation) =>
        Route(RotationDocument.Parse(signedRotation), d => d.TenantId, (d, issuer) => issuer.RotateRootAsync(signedRotation), (_, f) => DocumentResult.Refuse(f.Code, f.Message));

    /// <summary>Sends a revocation to the tenant it names, or, for <c>"*"</c>, to the operator's registry of access for every tenant.</summary>
    public async Task<RevocationResult> RevokeAsync(string signedRevocation)
    {
        var parsed = RevocationDocument.Parse(signedRevocation);
        if (!parsed.TryGetValue(out var revocation))
        {
            return new RevocationResult { Error = parsed.Failure.Code, Message = parsed.Failure.Message };
        }

        return await Guard(
            () => revocation.TenantId == AccessDocument.AllTenants ? Registry.RevokeAsync(signedRevocation) : Issuer(revocation.TenantId).RevokeAsync(signedRevocation),
            (code, problem) => new RevocationResult { Error = code, Message = problem });
    }

    /// <summary>Sends an access document to the tenant it names, or, for <c>"*"</c>, to the operator's registry.</summary>
    public async Task<DocumentResult> ApplyAccessAsync(string signedAccess)
    {
        var parsed = AccessDocument.Parse(signedAccess);
        if (!parsed.TryGetValue(out var access))
        {
            return DocumentResult.Refuse(parsed.Failure.Code, parsed.Failure.Message);
        }

        return await Guard(
            () => access.ForAllTenants ? Registry.ApplyAccessAsync(signedAccess) : Issuer(access.TenantId).ApplyAccessAsync(signedAccess),
            DocumentResult.Refuse);
    }

    private IAccessRegistryGrain Registry => cluster.GetGrain<IAccessRegistryGrain>(IAccessRegistryGrain.Key);

    public async Task<QuarantineResult> QuarantineAsync(string signedQuarantine)
    {
        var parsed = QuarantineDocument.Parse(signedQuarantine);
        if (!parsed.Succeeded)
        {
            return new QuarantineResult { Agent = string.Empty, Error = parsed.Failure.Code, Message = parsed.Failure.Message };
        }

        var agent = AgentKey.Of(parsed.Value.TenantId, parsed.Value.AgentId);
        return await Guard(() => cluster.GetGrain<IAgentGrain>(agent).QuarantineAsync(signedQuarantine),
            (code, problem) => new QuarantineResult { Agent = agent, Error = code, Message = problem });
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
    /// Receives every security event of a tenant once it is in the tenant's log, through the cluster (no storage keys:
    /// the caller needs the <c>audit</c> right for the tenant). Events arrive in log order, each once; after a failure the
    /// subscription catches up from the log. With <paramref name="afterSequence"/> the log's events after it come first
    /// (-1: only new ones). Dispose the returned subscription to stop.
    /// </summary>
    public async Task<IAsyncDisposable> SubscribeAsync(string tenantId, Func<SecurityEvent, Task> onEvent, long afterSequence = -1)
    {
        var subscription = new EventSubscription(cluster, Audit(tenantId), onEvent);
        try
        {
            await subscription.StartAsync(afterSequence);
            return subscription;
        }
        catch
        {
            await subscription.DisposeAsync();
            throw;
        }
    }

    private Task<T> WithAgent<T>(string tenantId, string agentId, Func<IAgentGrain, Task<T>> call, Func<string, string, T> refuse) =>
        !Identifiers.IsTenantId(tenantId) || !Identifiers.IsAgentId(agentId)
            ? Task.FromResult(refuse(ReasonCodes.NoGrant, $"\"{tenantId}/{agentId}\" is not an agent"))
            : Guard(() => call(Agent(tenantId, agentId)), refuse);

    private async Task<T> Route<TDocument, T>(Result<TDocument> parsed, Func<TDocument, string> tenantOf, Func<TDocument, IGrantIssuerGrain, Task<T>> call, Func<string, Failure, T> refuse)
    {
        if (!parsed.Succeeded)
        {
            return refuse(string.Empty, parsed.Failure);
        }

        var tenant = tenantOf(parsed.Value);
        return await Guard(() => call(parsed.Value, Issuer(tenant)), (code, problem) => refuse(tenant, new Failure(code, problem)));
    }

    /// <summary>
    /// A call whose failures come back as codes: the boundary's refusal as its own (<c>unauthenticated</c>,
    /// <c>forbidden</c>), any transport failure as <c>unavailable</c>.
    /// </summary>
    private static async Task<T> Guard<T>(Func<Task<T>> call, Func<string, string, T> refuse)
    {
        try
        {
            return await call();
        }
        catch (CallRefusedException e)
        {
            return refuse(e.Code, e.Message);
        }
#pragma warning disable CA1031 // Any transport failure is "unavailable" to the caller.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return refuse(ReasonCodes.Unavailable, $"the cluster could not be reached or did not answer ({e.GetType().Name}: {e.Message})");
        }
    }
}
