using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Grains.Boundary;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Access;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Testing;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Benchmarks;

/// <summary>
/// The trust boundary deciding whether a proven principal may call an agent's check (<see cref="CallAuthorizer"/>), from
/// this silo's copy of who may call (<see cref="CallerSnapshot"/>): the tenant's root, the agent itself, a service with
/// an access document for the agents <c>a*</c>, and a stranger refused.
/// </summary>
[MemoryDiagnoser]
public class CallAuthorizationBenchmarks
{
    private const string Tenant = "bench";
    private const string Agent = "a";

    private static readonly string Root = TestKeys.Root.Did.Value;
    private static readonly string AgentDid = TestKeys.FromByte(0x21).Did.Value;
    private static readonly string Service = TestKeys.FromByte(0x22).Did.Value;
    private static readonly string Stranger = TestKeys.Stranger.Did.Value;

    // Principals as a verified session gives them: strings of their own, compared with the copies of who may call in
    // full, not by reference.
    private readonly string _root = new(Root.AsSpan());
    private readonly string _agentItself = new(AgentDid.AsSpan());
    private readonly string _service = new(Service.AsSpan());
    private readonly string _stranger = new(Stranger.AsSpan());
    private CallAuthorizer _authorizer = null!;

    [GlobalSetup]
    public void Setup()
    {
        var now = DateTimeOffset.UtcNow;
        var access = TestDocuments.Access(Tenant, Service, now, "acc-1", "check")
            .Set("agents", DocumentSigner.StringArray(["a*"]))
            .SignWith(TestKeys.Root);
        var callers = new TenantCallers { Exists = true, RootDids = [Root], AccessDocuments = [access] };
        // Copies kept for a day, not the default 5 s: a benchmark of decisions from memory should not read them again.
        var options = Options.Create(new BoundaryOptions { CallersLifetime = TimeSpan.FromDays(1) });
        _authorizer = new CallAuthorizer(TestKeys.Operator.Did.Value, new CallerDirectory(FixedCallers.Factory(callers, []), options), TimeProvider.System);
        if (TenantRoot() is not null || AgentItself() is not null || ServiceWithAccess() is not null || StrangerRefused()?.Code != ReasonCodes.Forbidden)
        {
            throw new InvalidOperationException("a benchmark's caller is not decided as its name says");
        }
    }

    [Benchmark(Baseline = true)]
    public Failure? TenantRoot() => Authorize(_root);

    [Benchmark]
    public Failure? AgentItself() => Authorize(_agentItself);

    [Benchmark]
    public Failure? ServiceWithAccess() => Authorize(_service);

    [Benchmark]
    public Failure? StrangerRefused() => Authorize(_stranger);

    private Failure? Authorize(string principal)
    {
        var decided = _authorizer.AuthorizeAsync(principal, AccessRights.Check, CallScope.Agent, Tenant, Agent, AgentDid);
        return decided.IsCompletedSuccessfully ? decided.Result : throw new InvalidOperationException("who may call was not decided from memory");
    }
}
