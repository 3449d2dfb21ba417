using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Abstractions.Tools;
using AgentSecurity.Grants.Access;
using Orleans.Concurrency;

namespace AgentSecurity.Abstractions;

/// <summary>
/// One agent (key <c>tenant/agent</c>, see <see cref="AgentKey"/>): the only owner of its grant and status, and the
/// decision point for everything the agent attempts. No call throws for bad input; each answers with a reason code.
/// Everything that widens what the agent may do arrives as a signed document and is verified by the tenant's issuer.
/// What only the kernel's grains may call is on <see cref="Kernel.IAgentKernelGrain"/>.
/// </summary>
public interface IAgentGrain : IGrainWithStringKey
{
    /// <summary>
    /// Verifies a signed grant (<c>agentsec.grant.v1</c> or <c>v2</c>) through the tenant's issuer and, only if it verifies, makes it the
    /// agent's active grant. A refused grant changes nothing: the previous grant stays in force.
    /// </summary>
    [Requires(AccessRights.Apply)]
    Task<ApplyGrantResult> ApplyGrantAsync(string signedGrant);

    /// <summary>Decides one request from memory: status, revocation, time window, level, scope; default deny.</summary>
    [Requires(AccessRights.Check)]
    Task<Decision> CheckAsync(CheckRequest request);

    /// <summary>Decides like <see cref="CheckAsync"/> and says which part of the grant decided and what would change it.</summary>
    [Requires(AccessRights.Check)]
    Task<Explanation> ExplainAsync(CheckRequest request);

    /// <summary>Evaluates a request against a proposed grant (signed or not) without applying or consuming anything.</summary>
    [Requires(AccessRights.Check)]
    Task<Explanation> WhatIfAsync(CheckRequest request, string proposedGrant);

    /// <summary>
    /// Decides a tool call in one turn: <c>tool:call</c> for the tool (with its pin and approval rules), then every
    /// resource check its arguments map to; the first refusal answers. Recorded as <c>tool.called</c> or
    /// <c>tool.denied</c>. A call that needs approval records the permission request (one per agent and tool while it
    /// waits) and names it; once an elevation answers it, the same call is allowed.
    /// </summary>
    [Requires(AccessRights.Check)]
    Task<ToolCallDecision> CheckToolCallAsync(ToolCall toolCall);

    /// <summary>
    /// Charges what a model call really used, after an <c>llm</c> check allowed it: <paramref name="usage"/> is an
    /// <c>llm</c> request (the model as its resource) whose amount is the tokens used beyond what that check was metered
    /// for. Charged against the grant's <c>llmTokensPerHour</c> even past the budget (the tokens are spent; the next
    /// check is refused until they refill), whatever the agent's state now. An amount that is missing answers
    /// <c>usage_unreported</c> and charges the whole budget; a negative one answers <c>invalid_request</c> and charges
    /// the whole budget too: a usage nobody can read is never free. Without an <c>llmTokensPerHour</c> there is nothing
    /// to charge: a missing amount is allowed then, a negative one still <c>invalid_request</c>. Only the agent's own grant is charged (the tenant's
    /// shared limit is metered by the check alone). Recorded like a check: a charge with the summaries, a refusal now.
    /// </summary>
    [Requires(AccessRights.Check)]
    Task<Decision> ChargeUsageAsync(CheckRequest usage);

    /// <summary>
    /// Which of the listed tools the agent may be shown: granted by its active grant or a live elevation, and matching
    /// their pins. A tool that needs approval is shown (calling it asks for the approval). Decides and records nothing.
    /// </summary>
    [Requires(AccessRights.Check)]
    Task<bool[]> SelectVisibleToolsAsync(IReadOnlyList<ToolListing> tools);

    /// <summary>
    /// Which of the requests the agent's grants allow now (status, time window, level, scope), as <see cref="CheckAsync"/>
    /// would decide them before quotas: what a tool's answer may show of what the call did not name itself (the folders
    /// below the one a <c>directory_tree</c> read, whose names a gateway shows only where the agent may read them).
    /// Decides by the grant alone, meters and records nothing; a list longer than 1,024 allows nothing.
    /// </summary>
    [Requires(AccessRights.Check)]
    Task<bool[]> SelectAllowedAsync(IReadOnlyList<CheckRequest> requests);

    /// <summary>Records a tool whose definition changed while a gateway served it (<c>tool.changed</c>); the gateway refuses it from then on.</summary>
    [Requires(AccessRights.Check)]
    Task RecordToolChangedAsync(ToolListing before, ToolListing after);

    /// <summary>Quarantines or releases the agent by a signed <c>agentsec.quarantine.v1</c> from a root or admin.</summary>
    [Requires(AccessRights.Apply)]
    Task<QuarantineResult> QuarantineAsync(string signedQuarantine);

    /// <summary>
    /// Asks for a capability the agent lacks, with a justification the tenant's admins will read. Recorded by the
    /// tenant's issuer until answered or expired.
    /// </summary>
    [Requires(AccessRights.Requests)]
    Task<PermissionRequestResult> RequestPermissionAsync(PermissionRequestInput request);

    /// <summary>
    /// Installs an admin's answer to a permission request: a time-boxed signed grant that adds to the active grant
    /// until it expires (an elevation). Verified by the issuer against the request.
    /// </summary>
    [Requires(AccessRights.Apply)]
    Task<ApplyGrantResult> ApplyElevationAsync(string requestId, string signedGrant);

    [Requires(AccessRights.Check)]
    Task<AgentStatus> GetStatusAsync();

    /// <summary>Reads one of the agent's own memory keys (<c>memory:read</c>).</summary>
    [Requires(AccessRights.Memory)]
    Task<MemoryResult> GetMemoryAsync(string key);

    /// <summary>Writes one of the agent's own memory keys (<c>memory:write</c>), counted against <c>memoryBytesStored</c>.</summary>
    [Requires(AccessRights.Memory)]
    Task<MemoryResult> PutMemoryAsync(string key, byte[] value);

    /// <summary>Deletes one of the agent's own memory keys (<c>memory:delete</c>, which needs the full level).</summary>
    [Requires(AccessRights.Memory)]
    Task<MemoryResult> DeleteMemoryAsync(string key);

    /// <summary>Lists the agent's own keys under a prefix that its grant lets it read (<c>memory:read</c>).</summary>
    [Requires(AccessRights.Memory)]
    Task<MemoryResult> ListMemoryAsync(string? prefix);

    /// <summary>Does nothing: the cost of a call on the same grain, the baseline that check benchmarks compare against.</summary>
    [Requires(AccessRights.Check)]
    Task PingAsync();

    /// <summary>
    /// Runs agent code in a sandbox the grant's <c>environmentIsolation</c> allows (<c>sandboxed</c>: wasm and js;
    /// <c>native</c>: also process, with <c>subprocess</c>; <c>external</c>: nothing), within the grant's execution
    /// limits. Every host call the code makes is a check on this grain before it happens. Interleaves with everything
    /// else on this grain, so a running execution never holds up checks (or its own host calls); a quarantine or a
    /// revocation of the active grant stops it. Its response timeout covers the longest wall time the silo allows (2 min).
    /// </summary>
    [Requires(AccessRights.Execute)]
    [AlwaysInterleave]
    [ResponseTimeout("00:02:30")]
    Task<ExecutionResult> ExecuteAsync(ExecutionRequest request);

    /// <summary>
    /// Admits a long-lived server of the agent (an MCP upstream the silo starts, named <paramref name="server"/> for the
    /// audit) as a native execution: refused as <see cref="ExecuteAsync"/> would refuse a <c>process</c> execution
    /// (standing, isolation, executions forbidden), else the terms it runs on. A refusal is audited (<c>execution.failed</c>).
    /// Nothing is started or counted here: the silo that starts the server takes its own execution slot for its life.
    /// </summary>
    [Requires(AccessRights.Execute)]
    Task<ServerAdmission> AdmitServerAsync(string server);
}
