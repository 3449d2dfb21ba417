using AgentSecurity.Grants.Crypto;
using AgentSecurity.Grants.Encoding;

namespace AgentSecurity.Grants.Access;

/// <summary>
/// The value that marks a call as the kernel's own: an Ed25519 signature (deterministic) by the cluster's audit key over
/// a fixed label and the cluster's service id. Every silo derives the same value; no client can without the key.
/// </summary>
public static class KernelTokens
{
    public static string Derive(SigningKey auditKey, string serviceId) =>
        Base64Url.Encode(auditKey.Sign(System.Text.Encoding.UTF8.GetBytes($"agentsec.kernel-token.v1\0{serviceId}")));
}
