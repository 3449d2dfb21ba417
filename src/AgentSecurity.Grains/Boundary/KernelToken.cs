using AgentSecurity.Grains.Audit;
using AgentSecurity.Grants.Access;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace AgentSecurity.Grains.Boundary;

/// <summary>
/// What marks a call as the kernel's own: a value every silo of the cluster derives from the cluster's audit key (an
/// Ed25519 signature is deterministic, so the same key and service id give the same value) and no client can know.
/// Silos put it on every call they make (<see cref="KernelCallStamp"/>); the boundary lets such a call through.
/// </summary>
public sealed class KernelToken
{
    public KernelToken(AuditKey key, IOptions<ClusterOptions> cluster)
    {
        Value = KernelTokens.Derive(key.Key, cluster.Value.ServiceId);
    }

    public string Value { get; }

    /// <summary>Whether a request-context value is this token, compared in constant time.</summary>
    public bool Matches(object? candidate)
    {
        if (candidate is not string text || text.Length != Value.Length)
        {
            return false;
        }

        var difference = 0;
        for (var i = 0; i < text.Length; i++)
        {
            difference |= text[i] ^ Value[i];
        }

        return difference == 0;
    }
}
