using System.Security.Cryptography;
using AgentSecurity.Grants.Crypto;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Encoding;

namespace AgentSecurity.Client.Sessions;

/// <summary>
/// The principal this client calls as: a session (<c>agentsec.session.v1</c>) signed with its key for the cluster's
/// service id, signed again before it expires. The key stays in this process; the cluster sees only sessions.
/// </summary>
public sealed class ClientSession
{
    private readonly SigningKey _key;
    private readonly string _audience;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private (string Text, DateTimeOffset RenewAt)? _current;

    /// <param name="key">The principal's key: its DID is the principal.</param>
    /// <param name="audience">The cluster's service id.</param>
    /// <param name="lifetime">How long each session lasts (default 1 hour, at most 24).</param>
    /// <param name="time">The clock sessions are dated by (the kernel's clock in tests).</param>
    public ClientSession(SigningKey key, string audience, TimeSpan? lifetime = null, TimeProvider? time = null)
    {
        _key = key;
        _audience = audience;
        _time = time ?? TimeProvider.System;
        Lifetime = lifetime ?? TimeSpan.FromHours(1);
        if (Lifetime <= TimeSpan.FromMinutes(2) || Lifetime > SessionDocument.MaxLifetime)
        {
            throw new ArgumentOutOfRangeException(nameof(lifetime), Lifetime, "a session lasts more than 2 minutes and at most 24 hours");
        }
    }

    public string PrincipalDid => _key.Did.Value;

    public TimeSpan Lifetime { get; }

    /// <summary>The session to send now; a new one once the current one has a tenth of its life (at least a minute) left.</summary>
    public string Current
    {
        get
        {
            var now = _time.GetUtcNow();
            lock (_lock)
            {
                if (_current is not { } current || now >= current.RenewAt)
                {
                    var issuedAt = DocumentTime.WholeSeconds(now);
                    var expiresAt = issuedAt + Lifetime;
                    _current = current = (Sign(issuedAt, expiresAt), expiresAt - TimeSpan.FromTicks(Math.Max(Lifetime.Ticks / 10, TimeSpan.FromMinutes(1).Ticks)));
                }

                return current.Text;
            }
        }
    }

    /// <summary>A session of <paramref name="key"/> for <paramref name="audience"/>, valid from <paramref name="issuedAt"/> until <paramref name="expiresAt"/>.</summary>
    public static string Sign(SigningKey key, string audience, DateTimeOffset issuedAt, DateTimeOffset expiresAt) =>
        new DocumentSigner(DocumentTypes.Session)
            .Add("principalDid", key.Did.Value)
            .Add("audience", audience)
            .Add("nonce", Base64Url.Encode(RandomNumberGenerator.GetBytes(16)))
            .Add("issuedAt", issuedAt)
            .Add("expiresAt", expiresAt)
            .Sign(key);

    private string Sign(DateTimeOffset issuedAt, DateTimeOffset expiresAt) => Sign(_key, _audience, issuedAt, expiresAt);
}
