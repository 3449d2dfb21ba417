using AgentSecurity.Client;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Grains.Execution;
using AgentSecurity.Grains.Memory;
using AgentSecurity.Grants.Crypto;
using AgentSecurity.Hosting;
using AgentSecurity.Sandbox;
using AgentSecurity.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Storage;
using Orleans.TestingHost;

namespace AgentSecurity.Grains.Tests.Infrastructure;

/// <summary>
/// Two in-process silos sharing <see cref="TestGrainStorage"/> and one fake kernel clock. Tests share the cluster,
/// so each uses its own tenant (<see cref="NewTenantAsync"/>) and only ever moves the clock forward.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public static readonly FakeTimeProvider Time = new(TestDocuments.Epoch);

    /// <summary>
    /// A grant's resource limits with room for a sandbox worker to start and run on a loaded machine (the default wall
    /// limit is 5 s: in CI, beside the integration tests, four denied fetches once took longer). Tests about limits set their own.
    /// </summary>
    public const string LoadedMachine = """{"maxCpuMillis":60000,"maxWallMillis":60000}""";

    private static int _tenants;

    public TestCluster Cluster { get; private set; } = null!;

    public AgentSecurityClient Client { get; private set; } = null!;

    public TestGrainStorage Storage => TestGrainStorage.Shared;

    public TestAgentMemoryStore Memory => TestAgentMemoryStore.Shared;

    public TestAuditLogStore AuditLog => TestAuditLogStore.Shared;

    /// <summary>The audit key every test silo signs checkpoints with (one key, as silos of one cluster share).</summary>
    public static SigningKey AuditKey { get; } = TestKeys.FromByte(0xAD);

    private static readonly string AuditKeyFile = WriteAuditKey();

    private static string WriteAuditKey()
    {
        var path = Path.Combine(Path.GetTempPath(), $"agentsec-test-audit-{Environment.ProcessId}.key");
        File.WriteAllText(path, AuditKey.ToKeyFileJson());
        return path;
    }

    public DateTimeOffset Now => Time.GetUtcNow();

    /// <summary>An OpenAI-compatible endpoint on loopback that completes every prompt with "echo: {prompt}".</summary>
    public static LoopbackHttpServer Llm { get; } = new(request =>
    {
        var prompt = System.Text.Json.JsonDocument.Parse(request.Body).RootElement.GetProperty("messages")[0].GetProperty("content").GetString();
        return (200, System.Text.Json.JsonSerializer.Serialize(new { choices = new[] { new { message = new { role = "assistant", content = $"echo: {prompt}" } } } }));
    });

    /// <summary>Agents' workspaces of this test run.</summary>
    public static string WorkspaceRoot { get; } = Directory.CreateTempSubdirectory("agentsec-grain-tests-").FullName;

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(2);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        Client = new AgentSecurityClient(Cluster.Client);
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    /// <summary>Creates a fresh tenant whose roots are the given keys (default <see cref="TestKeys.Root"/>).</summary>
    public async Task<string> NewTenantAsync(params SigningKey[] roots)
    {
        var tenant = $"t{Interlocked.Increment(ref _tenants)}-{Guid.NewGuid():N}"[..20];
        roots = roots.Length == 0 ? [TestKeys.Root] : roots;
        var document = TestDocuments.Tenant(tenant, Now, roots.Select(r => r.Did.Value).ToArray()).SignWith(TestKeys.Operator);
        var result = await Client.CreateTenantAsync(document);
        Assert.True(result.Created, $"{result.Error}: {result.Message}");
        return tenant;
    }

    /// <summary>Applies a grant and fails the test if it is refused.</summary>
    public async Task ApplyAsync(string grant)
    {
        var result = await Client.ApplyGrantAsync(grant);
        Assert.True(result.Applied, $"{result.Error}: {result.Message}");
    }

    /// <summary>The token this cluster's silos put on their own calls: a test that plays the kernel (feeding the audit log, leasing) carries it.</summary>
    public string KernelToken => Grants.Access.KernelTokens.Derive(AuditKey, Cluster.Options.ServiceId);

    /// <summary>
    /// Makes the calls of the current flow the kernel's own (what only the cluster's grains may call: feeding the audit
    /// log, leasing), until disposed.
    /// </summary>
    public IDisposable AsKernel()
    {
        RequestContext.Set(PlaysKernelKey, KernelToken);
        return new KernelScope();
    }

    /// <summary>
    /// What the test client puts on a call as the kernel's token (its last outgoing filter does): a real client never
    /// sends one, since its session filter removes it.
    /// </summary>
    public const string PlaysKernelKey = "test-plays-kernel";

    private sealed class KernelScope : IDisposable
    {
        public void Dispose() => RequestContext.Remove(PlaysKernelKey);
    }

    /// <summary>A session of <paramref name="key"/> for this cluster, valid for an hour of the kernel's clock.</summary>
    public string SessionOf(SigningKey key) => AgentSecurity.Client.Sessions.ClientSession.Sign(key, Cluster.Options.ServiceId, Now, Now.AddHours(1));

    /// <summary>Deactivates every grain of the cluster, so that the next call loads its state from storage.</summary>
    public Task DeactivateAllAsync() => Cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

    public Task<Abstractions.Decision> CheckAsync(string tenant, string agent, string capability, string? resource = null) =>
        Client.CheckAsync(tenant, agent, new Abstractions.CheckRequest(capability, resource));

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        // The tests' client calls as the operator, whose sessions are dated by the kernel's (fake) clock: the boundary's
        // own tests call as other principals with AgentSecurityClient.As.
        public void Configure(Microsoft.Extensions.Configuration.IConfiguration configuration, IClientBuilder client) =>
            client.AddMemoryStreams(AuditStreams.ProviderName).UseOneGatewayAtATime().UseAgentSecuritySession(TestKeys.Operator, time: Time)
                .AddOutgoingGrainCallFilter(context =>
                {
                    if (RequestContext.Get(PlaysKernelKey) is string token)
                    {
                        RequestContext.Set(Abstractions.Boundary.CallerContext.KernelKey, token);
                    }

                    return context.Invoke();
                });
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo) => ConfigureKernelSilo(silo);
    }

    /// <summary>
    /// A test silo's kernel: the shared in-memory stores, in-process streams, test sandboxes, and <see cref="Time"/> as
    /// the kernel's clock (a fixture of other silos registers its own clock after this).
    /// </summary>
    internal static void ConfigureKernelSilo(ISiloBuilder silo)
    {
        silo.AddAgentSecurity(o => o.OperatorDid = TestKeys.Operator.Did.Value);
        silo.AddAgentSecuritySandboxes();
        foreach (var runtime in silo.Services.Where(d => d.ServiceType == typeof(ISandboxRuntime)).ToList())
        {
            var create = runtime.ImplementationFactory ?? throw new InvalidOperationException("the sandboxes' runtimes are registered by factory");
            silo.Services.Remove(runtime);
            silo.Services.Add(new ServiceDescriptor(typeof(ISandboxRuntime), services => new HeldStarts((ISandboxRuntime)create(services)), runtime.Lifetime));
        }

        silo.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Grains, TestGrainStorage.Shared);
        silo.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Issuers, TestGrainStorage.Shared);
        silo.Services.AddKeyedSingleton<TimeProvider>(KernelClock.ServiceKey, Time);
        silo.Services.AddSingleton<IAgentMemoryStore>(TestAgentMemoryStore.Shared);
        silo.Services.AddSingleton<IAuditLogStore>(TestAuditLogStore.Shared);
        silo.Services.AddSingleton<AuditEvents, FaultyAuditEvents>();
        silo.AddOutgoingGrainCallFilter(AgentCheckWatch.InvokeAsync);

        // In-process streams for grain logic: fast, and they deliver between the test silos and to the client.
        // The durable Azure Queue streams (at-least-once across silo crashes) are the integration tests' job.
        silo.AddMemoryGrainStorage("PubSubStore");
        silo.AddMemoryStreams(AuditStreams.ProviderName);
        silo.Services.Configure<SandboxOptions>(o =>
        {
            o.WorkspaceRoot = WorkspaceRoot;
            o.LlmBaseUrl = new Uri(Llm.Address, "v1/");
            o.FirstUserId = 1_600_000_000 + ((uint)Environment.ProcessId % 1000 * 1000);
            o.UserIdCount = 1000;

            // Tests move the kernel's clock by days; workspaces of tests still running must not be swept meanwhile
            // (the janitor's own tests drive ExecutionServices directly).
            o.WorkspaceRetention = TimeSpan.FromDays(3650);
        });
        // The test cluster's own plumbing, and the management grain the tests use to deactivate grains.
        silo.Services.Configure<AgentSecurity.Grains.Boundary.BoundaryOptions>(o =>
        {
            o.ClientInfrastructure.Add("Orleans.Runtime.TestHooks.ITestHooks");
            o.ClientInfrastructure.Add("Orleans.Runtime.IManagementGrain");
        });
        silo.Services.Configure<AuditOptions>(o =>
        {
            o.KeyFile = AuditKeyFile;
            o.Rules.DenyBurst.Threshold = 20;
        });
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
