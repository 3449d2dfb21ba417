using AgentSecurity.Grants.Crypto;
using AgentSecurity.Grants.Identity;
using AgentSecurity.Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Audit;

/// <summary>The cluster's audit key: signs checkpoints; its DID (and earlier ones) is what checkpoints verify under.</summary>
public sealed class AuditKey : IDisposable
{
    public AuditKey(IOptions<AuditOptions> options, ILogger<AuditKey>? logger = null)
    {
        var file = options.Value.KeyFile;
        if (file is { Length: > 0 })
        {
            var key = SigningKey.FromKeyFileJson(File.ReadAllBytes(file));
            Key = key.Succeeded ? key.Value : throw new InvalidOperationException($"AgentSecurity:Audit:KeyFile {file}: {key.Failure.Message}");
        }
        else
        {
            // Allowed in development only (AuditOptionsValidator); said aloud in every host, the kernel's own or a platform's.
            Key = SigningKey.Generate();
            Ephemeral = true;
            Log.EphemeralAuditKey(logger ?? NullLogger<AuditKey>.Instance, Key.Did.Value);
        }

        Trusted = new HashSet<DidKey>([Key.Did, .. options.Value.TrustedDids.Select(d => DidKey.Parse(d).Value)]);
    }

    public SigningKey Key { get; }

    /// <summary>True when no key file was configured and this key lives only as long as the silo.</summary>
    public bool Ephemeral { get; }

    public IReadOnlySet<DidKey> Trusted { get; }

    public void Dispose() => Key.Dispose();
}
