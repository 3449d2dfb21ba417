using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Kernel;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Outbox;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Identity;
using Microsoft.Extensions.Logging;

namespace AgentSecurity.Grains.Issuers;

/// <summary>
/// The tenant-wide limits: the newest <c>agentsec.limits.v1</c> signed by the operator or a root. The tenant's quota
/// grain meters them; the issuer itself bounds by them how many agents hold live grants.
/// </summary>
internal sealed class LimitsAdministration(
    StateOutbox<IssuerGrainState> outbox,
    TrustAdministration tenant,
    IssuerEvents events,
    IGrainFactory grains,
    DidKey operatorDid,
    TimeProvider time,
    AgentSecurityOptions options,
    string tenantId,
    Func<ValueTask<Failure?>> mayApplyForEveryTenant,
    ILogger logger)
{
    private LimitsDocument? _limits;

    // Stored limits that failed verification: shared limits cannot be metered, so the tenant's checks are unavailable
    // rather than run by the platform's defaults.
    private bool _rejected;

    /// <summary>The most agents of the tenant that may hold live grants.</summary>
    public long MaxAgents => _limits?.MaxAgents ?? LimitsDocument.DefaultMaxAgents;

    /// <summary>Reads the stored limits on activation, after the trust that judges their signer.</summary>
    public void Load()
    {
        if (outbox.State.LimitsDocument is not { } stored || tenant.Trust is not { } trust)
        {
            return;
        }

        _limits = Verified(stored, trust);
        _rejected = _limits is null;
        if (_rejected)
        {
            Log.IssuerStateRejected(logger, tenantId);
        }
    }

    public async Task<DocumentResult> SetAsync(string signedLimits)
    {
        const string What = "tenant limits";
        var parsed = LimitsDocument.Parse(signedLimits);
        if (!parsed.TryGetValue(out var limits))
        {
            return await tenant.RefuseAsync(parsed.Failure, What, signer: null);
        }

        var signer = limits.Envelope.SignedBy;
        var trusted = tenant.TrustFor(limits.TenantId);
        if (!trusted.TryGetValue(out var trust))
        {
            return await tenant.RefuseAsync(trusted.Failure, What, signer.Value);
        }

        if (!signer.Equals(operatorDid) && !trust.IsRoot(signer))
        {
            return await tenant.RefuseAsync(new Failure(ReasonCodes.UntrustedSigner, $"tenant limits are set by the operator or a root, not {signer.Value}"), What, signer.Value);
        }

        if (TenantTrust.CheckSignatureAndTime(limits.Envelope, time.GetUtcNow(), options.ClockSkew) is { } invalid)
        {
            return await tenant.RefuseAsync(invalid, What, signer.Value);
        }

        // The operator's limits bind the tenant's roots too: only a caller trusted with every tenant may bring them, or a
        // root could replay an old, looser set the operator once signed.
        if (signer.Equals(operatorDid) && await mayApplyForEveryTenant() is { } notForEveryTenant)
        {
            return await tenant.RefuseAsync(notForEveryTenant, What, signer.Value);
        }

        if (_limits?.Envelope.ContentHash == limits.Envelope.ContentHash)
        {
            // A retry after a call that failed on the way (the tenant's quota grain not reached in time, say) finishes it.
            await ApplyToAgentsAsync();
            return new DocumentResult { Accepted = true, Unchanged = true };
        }

        if (_limits is { } current && current.Envelope.IssuedAt >= limits.Envelope.IssuedAt)
        {
            return DocumentResult.Refuse(ReasonCodes.Stale, $"limits issued {DocumentTime.ToText(current.Envelope.IssuedAt)} are in force; a replacement must be issued later");
        }

        var text = limits.Envelope.CanonicalText;
        if (!await outbox.CommitAsync(s => s.LimitsDocument = text, events.Make(SecurityEventTypes.LimitsSet, signer: signer.Value, message: text)))
        {
            return DocumentResult.Refuse(ReasonCodes.Unavailable, "the limits could not be stored");
        }

        _limits = limits;
        _rejected = false;
        Log.TenantLimitsSet(logger, tenantId, text);
        await ApplyToAgentsAsync();
        return new DocumentResult { Accepted = true };
    }

    /// <summary>The tenant's quota grain meters against the limits in force, and the agents that read the ones before are told.</summary>
    private async Task ApplyToAgentsAsync()
    {
        var quota = grains.GetGrain<ITenantQuotaKernelGrain>(tenantId);
        await quota.RefreshAsync();
        await quota.NotifyLimitReadersAsync(); // a call of its own, so that the tenant's leases go on while agents are told
    }

    public TenantLimits Get()
    {
        if (_rejected)
        {
            return new TenantLimits { Unavailable = true };
        }

        if (_limits is not { } limits)
        {
            return TenantLimits.None;
        }

        var values = new Dictionary<string, long>();
        foreach (var name in ResourceLimits.Names)
        {
            if (limits.Limits.Get(name) is { } value)
            {
                values[name] = value;
            }
        }

        return new TenantLimits { Limits = values, MaxAgents = limits.MaxAgents, IssuedAt = limits.Envelope.IssuedAt };
    }

    // Stored limits count only if signed, for this tenant, by the operator or one of its roots (now or before a rotation).
    private LimitsDocument? Verified(string stored, TenantTrust trust)
    {
        if (!LimitsDocument.Parse(stored).TryGetValue(out var limits) || limits.TenantId != tenantId || !limits.Envelope.HasValidSignature())
        {
            return null;
        }

        var signer = limits.Envelope.SignedBy;
        return signer.Equals(operatorDid) || trust.WasRoot(signer) ? limits : null;
    }
}
