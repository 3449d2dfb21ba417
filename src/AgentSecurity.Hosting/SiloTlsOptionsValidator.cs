using Microsoft.Extensions.Options;

namespace AgentSecurity.Hosting;

/// <summary>
/// Refuses to start a silo that would listen beyond loopback without TLS, or whose TLS settings are incomplete, name
/// files that cannot be read, or a certificate the cluster's CA does not vouch for (expired, another CA, wrong usage).
/// </summary>
public sealed class SiloTlsOptionsValidator(SiloHostOptions host, TimeProvider time) : IValidateOptions<SiloTlsOptions>
{
    public ValidateOptionsResult Validate(string? name, SiloTlsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (certificates, problems) = SiloTlsCertificates.Read(options, host, time);
        certificates?.Certificate.Dispose();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
