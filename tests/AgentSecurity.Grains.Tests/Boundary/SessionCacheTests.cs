using AgentSecurity.Grains.Boundary;
using AgentSecurity.Grants;
using AgentSecurity.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AgentSecurity.Grains.Tests.Boundary;

public sealed class SessionCacheTests
{
    private const string Audience = "agentsec";
    private readonly FakeTimeProvider _time = new(TestDocuments.Epoch);
    private int _verified;

    private SessionCache Cache(int capacity = 100) => new(_time, Audience, TimeSpan.FromSeconds(30), capacity, () => _verified++);

    private string Session(int nonce = 0, TimeSpan? lifetime = null)
    {
        var template = TestDocuments.Session(TestKeys.Root.Did.Value, Audience, _time.GetUtcNow())
            .Set("nonce", Grants.Encoding.Base64Url.Encode(BitConverter.GetBytes((long)nonce).Concat(new byte[8]).ToArray()));
        return (lifetime is { } l ? template.Set("expiresAt", _time.GetUtcNow() + l) : template).SignWith(TestKeys.Root);
    }

    [Fact]
    public void Authenticate_SameSessionAgain_VerifiesItOnce()
    {
        var cache = Cache();
        var session = Session();

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(TestKeys.Root.Did.Value, cache.Authenticate(session).Value);
        }

        Assert.Equal(1, _verified);
    }

    [Fact]
    public void Authenticate_CachedSessionOnceExpired_IsUnauthenticated()
    {
        var cache = Cache();
        var session = Session(lifetime: TimeSpan.FromMinutes(10));
        Assert.True(cache.Authenticate(session).Succeeded);

        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal(ReasonCodes.Unauthenticated, cache.Authenticate(session).Failure?.Code);
    }

    [Fact]
    public void Authenticate_FloodOfDistinctSessions_StaysWithinCapacity()
    {
        var cache = Cache(capacity: 50);

        for (var i = 0; i < 500; i++)
        {
            Assert.True(cache.Authenticate(Session(i)).Succeeded);
            Assert.InRange(cache.Count, 1, 50);
        }

        Assert.Equal(500, _verified);
    }

    [Fact]
    public void Authenticate_BadSessions_AreNeitherCachedNorAllowed()
    {
        var cache = Cache();
        var altered = Session().Replace(Audience, "agentsez", StringComparison.Ordinal);

        Assert.Equal(ReasonCodes.Unauthenticated, cache.Authenticate(null).Failure?.Code);
        Assert.Equal(ReasonCodes.Unauthenticated, cache.Authenticate(altered).Failure?.Code);
        Assert.Equal(ReasonCodes.Unauthenticated, cache.Authenticate("{}").Failure?.Code);
        Assert.Equal(0, cache.Count);
    }
}
