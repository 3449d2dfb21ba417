using AgentSecurity.Grants.Crypto;
using AgentSecurity.Grants.Identity;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Audit;

/// <summary>The cluster's audit key: signs checkpoints; its DID (and earlier ones) is what checkpoints verify under.</summary>
public sealed class AuditKey : IDisposable
{
    public AuditKey(IOptions<AuditOptions> options)
    {
        var file = options.Value.KeyFile;
        if (file is { Length: > 0 })
        {
            var key = SigningKey.FromKeyFileJson(File.ReadAllBytes(file));
            Key = key.Succeeded ? key.Value : throw new InvalidOperationException($"AgentSecurity:Audit:KeyFile {file}: {key.Failure.Message}");
        }
        else
        {
            Key = SigningKey.Generate();
            Ephemeral = true;
        }

        Trusted = new HashSet<DidKey>([Key.Did, .. options.Value.TrustedDids.Select(d => DidKey.Parse(d).Value)]);
    }

    public SigningKey Key { get; }

    /// <summary>True when no key file was configured and this key lives only as long as the silo.</summary>
    public bool Ephemeral { get; }

    public IReadOnlySet<DidKey> Trusted { get; }

    public void Dispose() => Key.Dispose();
}
