namespace AgentSecurity.Tls;

/// <summary>The verdict on a certificate: trusted, or why not (for the log and for error messages).</summary>
public readonly record struct CertificateCheck(bool Trusted, string? Problem)
{
    public static CertificateCheck Ok { get; } = new(true, null);

    public static CertificateCheck Refused(string problem) => new(false, problem);
}
