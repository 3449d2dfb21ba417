using AgentSecurity.Grains.Boundary;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Access;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Verification;
using AgentSecurity.Testing;
using BenchmarkDotNet.Attributes;

namespace AgentSecurity.Benchmarks;

/// <summary>
/// What proving a caller costs: a session the silo has verified before (<see cref="SessionCache"/>: a lookup), a
/// session's first verification (<see cref="SessionVerifier"/>: parse, audience, Ed25519, time window), and the
/// Ed25519 check of a parsed grant's signature alone.
/// </summary>
[MemoryDiagnoser]
public class VerificationBenchmarks
{
    private const string Audience = "agentsec";

    private string _session = string.Empty;
    private string _sessionAsReceived = string.Empty;
    private SessionCache _cache = null!;
    private SignedDocument _grant = null!;
    private DateTimeOffset _now;

    [GlobalSetup]
    public void Setup()
    {
        _now = DateTimeOffset.UtcNow;
        _session = TestDocuments.Session(TestKeys.Root.Did.Value, Audience, _now).SignWith(TestKeys.Root);
        // Each call brings its own copy of the session's text: the cache compares it in full, not by reference.
        _sessionAsReceived = new string(_session.AsSpan());
        _cache = new SessionCache(TimeProvider.System, Audience, DocumentChecks.DefaultClockSkew, capacity: 10_000, onVerified: () => { });
        _grant = GrantDocument.Parse(TypicalGrant.Signed(_now)).Value.Envelope;
        if (!_cache.Authenticate(_session).Succeeded || !CachedSession().Succeeded || !FirstVerification().Succeeded || GrantSignature() is not null)
        {
            throw new InvalidOperationException("a benchmark's document does not verify");
        }
    }

    [Benchmark(Baseline = true)]
    public Result<string> CachedSession() => _cache.Authenticate(_sessionAsReceived);

    [Benchmark]
    public Result<SessionDocument> FirstVerification() => SessionVerifier.Verify(_session, Audience, _now, DocumentChecks.DefaultClockSkew);

    [Benchmark]
    public Failure? GrantSignature() => DocumentChecks.Signature(_grant);
}
