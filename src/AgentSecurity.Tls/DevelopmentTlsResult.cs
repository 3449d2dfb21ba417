namespace AgentSecurity.Tls;

/// <summary>What <see cref="DevelopmentTlsFolder.Ensure"/> did: each file <c>created</c> or <c>kept</c>, and the CA's SHA-256 fingerprint.</summary>
public sealed record DevelopmentTlsResult(string Directory, IReadOnlyDictionary<string, string> Files, string AuthorityFingerprint);
