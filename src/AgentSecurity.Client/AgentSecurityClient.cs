using AgentSecurity.Abstractions;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;

namespace AgentSecurity.Client;

/// <summary>
/// What applications call: typed access to tenants, grants and checks over an <see cref="IClusterClient"/>.
/// Nothing here throws for a refusal or an unreachable cluster; a check that cannot be decided is denied with
/// <c>unavailable</c>, so a caller that forgets a catch still fails closed.
/// </summary>
public sealed class AgentSecurityClient(IClusterClient cluster)
{
    public IAgentGrain Agent(string tenantId, string agentId) => cluster.GetGrain<IAgentGrain>(AgentKey.Of(tenantId, agentId));

    public IGrantIssuerGrain Issuer(string tenantId) => cluster.GetGrain<IGrantIssuerGrain>(tenantId);

    /// <summary>Sends a signed tenant document to the issuer of the tenant it names.</summary>
    public async Task<TenantResult> CreateTenantAsync(string signedTenant)
    {
        // Parsed here only to route the call; the issuer parses and verifies everything again.
        var parsed = TenantDocument.Parse(signedTenant);
        if (!parsed.Succeeded)
        {
            return new TenantResult { TenantId = string.Empty, Error = parsed.Failure!.Code, Message = parsed.Failure.Message };
        }

        try
        {
            return await Issuer(parsed.Value.TenantId).CreateTenantAsync(signedTenant);
        }
#pragma warning disable CA1031 // Any transport failure is "unavailable" to the caller.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return new TenantResult { TenantId = parsed.Value.TenantId, Error = ReasonCodes.Unavailable, Message = Describe(e) };
        }
    }

    /// <summary>Sends a signed grant to the agent it names.</summary>
    public async Task<ApplyGrantResult> ApplyGrantAsync(string signedGrant)
    {
        var parsed = GrantDocument.Parse(signedGrant);
        if (!parsed.Succeeded)
        {
            return ApplyGrantResult.Refused(string.Empty, parsed.Failure!.Code, parsed.Failure.Message);
        }

        var grant = parsed.Value;
        var agent = AgentKey.Of(grant.TenantId, grant.AgentId);
        try
        {
            return await cluster.GetGrain<IAgentGrain>(agent).ApplyGrantAsync(signedGrant);
        }
#pragma warning disable CA1031
        catch (Exception e)
#pragma warning restore CA1031
        {
            return ApplyGrantResult.Refused(agent, ReasonCodes.Unavailable, Describe(e), grant.GrantId);
        }
    }

    public async Task<Decision> CheckAsync(string tenantId, string agentId, CheckRequest request)
    {
        if (!Identifiers.IsTenantId(tenantId) || !Identifiers.IsAgentId(agentId))
        {
            return Decision.Deny(ReasonCodes.NoGrant, $"\"{tenantId}/{agentId}\" is not an agent");
        }

        try
        {
            return await Agent(tenantId, agentId).CheckAsync(request);
        }
#pragma warning disable CA1031
        catch (Exception e)
#pragma warning restore CA1031
        {
            return Decision.Deny(ReasonCodes.Unavailable, Describe(e));
        }
    }

    public Task<AgentStatus> GetStatusAsync(string tenantId, string agentId) => Agent(tenantId, agentId).GetStatusAsync();

    private static string Describe(Exception e) => $"the cluster could not be reached or did not answer ({e.GetType().Name}: {e.Message})";
}
