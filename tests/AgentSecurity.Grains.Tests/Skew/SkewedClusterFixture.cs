using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Client;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants.Verification;
using AgentSecurity.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace AgentSecurity.Grains.Tests.Skew;

/// <summary>
/// Two in-process silos whose kernel clocks differ by the configured clock skew: the primary's runs half the skew behind
/// <see cref="Time"/> (the true time, which the tests' client and signers use), the secondary's half the skew ahead. The
/// real silo takes no clock from outside (its kernel clock is the machine's), so silos with skewed clocks are in-process
/// <c>TestCluster</c> silos, with the grain tests' stores, each with its own clock under <see cref="KernelClock"/>.
/// </summary>
public sealed class SkewedClusterFixture : IAsyncLifetime
{
    /// <summary>The kernel's configured skew (the contract's default, which these silos keep).</summary>
    public static readonly TimeSpan Skew = DocumentChecks.DefaultClockSkew;

    /// <summary>The true time; its own clock, so that the grain tests moving theirs do not move it.</summary>
    public static readonly FakeTimeProvider Time = new(TestDocuments.Epoch.AddDays(400));

    public TestCluster Cluster { get; private set; } = null!;

    public AgentSecurityClient Client { get; private set; } = null!;

    public DateTimeOffset Now => Time.GetUtcNow();

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

    /// <summary>The kernel clock of the silo at <paramref name="silo"/>.</summary>
    public TimeProvider ClockOf(SiloAddress silo) =>
        ((InProcessSiloHandle)Cluster.GetActiveSilos().Single(s => s.SiloAddress.Equals(silo))).ServiceProvider.GetRequiredKeyedService<TimeProvider>(KernelClock.ServiceKey);

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            ClusterFixture.ConfigureKernelSilo(silo);

            // Random placement: the default (resource-optimized) prefers the calling silo, so the agents an issuer
            // activates would all land beside it, and the test needs agents on both silos for issuers on both.
            silo.Services.AddSingleton<PlacementStrategy, RandomPlacement>();

            // Registered after the grain tests' clock, so that this one is the kernel's.
            silo.Services.AddKeyedSingleton<TimeProvider>(KernelClock.ServiceKey, (services, _) => new OffsetTimeProvider(Time,
                services.GetRequiredService<IOptions<SiloOptions>>().Value.SiloName == global::Orleans.Runtime.Silo.PrimarySiloName ? -Skew / 2 : Skew / 2));
        }
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(Microsoft.Extensions.Configuration.IConfiguration configuration, IClientBuilder client) =>
            client.AddMemoryStreams(AuditStreams.ProviderName).UseOneGatewayAtATime().UseAgentSecuritySession(TestKeys.Operator, time: Time);
    }
}

[CollectionDefinition(Name)]
public sealed class SkewedClusterCollection : ICollectionFixture<SkewedClusterFixture>
{
    public const string Name = "skewed cluster";
}
