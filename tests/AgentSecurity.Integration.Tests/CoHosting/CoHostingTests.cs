using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Grants;
using AgentSecurity.Hosting;
using AgentSecurity.Hosting.Storage;
using AgentSecurity.Integration.Tests.Infrastructure;
using AgentSecurity.Testing;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Runtime;

namespace AgentSecurity.Integration.Tests.CoHosting;

/// <summary>
/// The kernel in a platform's own silo, as docs/embedding.md tells a platform to put it there: beside a grain of the
/// platform's whose state uses the silo's default (Newtonsoft) serializer and a stream of the platform's whose
/// subscriptions live in the platform's <c>PubSubStore</c>, all on Azure Storage (Azurite). The platform loses nothing
/// across restarts, and the kernel works and keeps its own state beside it.
/// </summary>
public sealed class CoHostingTests : IAsyncLifetime
{
    /// <summary>The platform's service id: the kernel's storage names start with it, lowercased and without the dash.</summary>
    private const string ServiceId = "Host-Platform";

    private AzuriteProcess _azurite = null!;
    private string _auditKeyFile = null!;

    public async Task InitializeAsync()
    {
        _azurite = await AzuriteProcess.StartAsync();
        _auditKeyFile = Path.Combine(Directory.CreateTempSubdirectory("agentsec-cohost-").FullName, "audit.key");
        await File.WriteAllTextAsync(_auditKeyFile, TestKeys.FromByte(0xAE).ToKeyFileJson());
    }

    public Task DisposeAsync()
    {
        _azurite.Dispose();
        Directory.Delete(Path.GetDirectoryName(_auditKeyFile)!, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task CoHostedSilo_RestartedTwice_KeepsThePlatformsStateAndSubscriptionsAndTheKernelsGrants()
    {
        var (siloPort, gatewayPort) = (FreePorts.Next(), FreePorts.Next());
        var tenant = "cohost-" + Guid.NewGuid().ToString("N")[..8];
        var issuedAt = DateTimeOffset.UtcNow.AddMinutes(-1);

        // First life: the platform's grain keeps notes and subscribes to its own stream; the kernel gets a tenant and a grant.
        await using (var silo = await CoHostedSilo.StartAsync(_azurite.ConnectionString, ServiceId, siloPort, gatewayPort, _auditKeyFile))
        {
            var notes = silo.Grains.GetGrain<IPlatformNotesGrain>("desk");
            await notes.AddAsync("first");
            await notes.AddAsync("second");
            await notes.SubscribeAsync();
            await silo.PublishAsync("desk", "before the restart");
            Assert.Equal(["before the restart"], await notes.WaitForReceivedAsync(1));

            await using var service = await silo.ConnectServiceAsync();
            await TenantWithGrantAsync(service.Client, tenant, issuedAt);
        }

        for (var life = 2; life <= 3; life++)
        {
            await using var silo = await CoHostedSilo.StartAsync(_azurite.ConnectionString, ServiceId, siloPort, gatewayPort, _auditKeyFile);
            var notes = silo.Grains.GetGrain<IPlatformNotesGrain>("desk");

            // The platform's state, read back by its own serializer, and its subscription, resumed from its own PubSubStore.
            Assert.Equal(["first", "second"], await notes.GetAsync());
            Assert.Equal(1, await notes.SubscriptionCountAsync());
            await silo.PublishAsync("desk", $"life {life}");
            Assert.Equal([$"life {life}"], await notes.WaitForReceivedAsync(1));

            // The kernel's grant came back from the kernel's own storage; its decisions reach its audit log.
            await using var service = await silo.ConnectServiceAsync();
            var denied = new TaskCompletionSource<DecisionEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
            await using (await service.Client.SubscribeAsync(tenant, e =>
            {
                if (e is DecisionEvent { Reason: ReasonCodes.OutOfScope } denial)
                {
                    denied.TrySetResult(denial);
                }

                return Task.CompletedTask;
            }))
            {
                Assert.True((await service.Client.CheckAsync(tenant, "bot", new CheckRequest("fileSystem:read", "/workspace/a.txt"))).Allowed);
                Assert.Equal(ReasonCodes.OutOfScope, (await service.Client.CheckAsync(tenant, "bot", new CheckRequest("fileSystem:read", $"/etc/life-{life}"))).Reason);
                Assert.Equal($"/etc/life-{life}", (await denied.Task.WaitAsync(TimeSpan.FromSeconds(30))).Resource);
            }
        }

        // The kernel kept to names of its own, made from the service id; the platform's tables are the platform's.
        var tables = new List<string>();
        await foreach (var table in new TableServiceClient(_azurite.ConnectionString).QueryAsync())
        {
            tables.Add(table.Name);
        }

        var prefix = StorageNamePrefix.FromServiceId(ServiceId);
        Assert.StartsWith("hostplatform", prefix, StringComparison.Ordinal);
        Assert.Contains(prefix + "grains", tables);
        Assert.Contains(prefix + "auditlog", tables);
        Assert.DoesNotContain(tables, t => t.StartsWith("agentsec", StringComparison.Ordinal));
        Assert.Contains(CoHostedSilo.PlatformStateTable, tables);
        Assert.Contains(CoHostedSilo.PlatformPubSubTable, tables);
    }

    [Fact]
    public async Task CoHostedSilo_PlatformsOwnGrainsAndClients_AreThePlatformsAndCallTheKernelAsClients()
    {
        await using var silo = await CoHostedSilo.StartAsync(_azurite.ConnectionString, ServiceId, FreePorts.Next(), FreePorts.Next(), _auditKeyFile);
        var tenant = "platform-" + Guid.NewGuid().ToString("N")[..8];
        var issuedAt = DateTimeOffset.UtcNow.AddMinutes(-1);
        await using (var service = await silo.ConnectServiceAsync())
        {
            await TenantWithGrantAsync(service.Client, tenant, issuedAt);
        }

        // The platform's own client, which knows nothing of sessions, reaches the platform's own grain: the kernel's
        // boundary guards the kernel, not the silo.
        await using var platformClient = await silo.ConnectPlatformClientAsync();
        var notes = platformClient.GetGrain<IPlatformNotesGrain>("desk-" + tenant);
        await notes.AddAsync("from the platform's client");
        Assert.Equal(["from the platform's client"], await notes.GetAsync());

        // ...and the platform's grain is not the kernel: without a session its call to the kernel is refused, with the
        // platform's session it is decided like any client's (the root holds every right over its tenant).
        Assert.Equal(ReasonCodes.Unauthenticated, await notes.CheckAsync(tenant, "bot", "fileSystem:read", "/workspace/a.txt", session: null));
        var root = Client.Sessions.ClientSession.Sign(TestKeys.Root, ServiceId, issuedAt, issuedAt.AddHours(1));
        Assert.Equal(ReasonCodes.Allowed, await notes.CheckAsync(tenant, "bot", "fileSystem:read", "/workspace/a.txt", root));
        Assert.Equal(ReasonCodes.OutOfScope, await notes.CheckAsync(tenant, "bot", "fileSystem:read", "/etc/passwd", root));
        var stranger = Client.Sessions.ClientSession.Sign(TestKeys.Stranger, ServiceId, issuedAt, issuedAt.AddHours(1));
        Assert.Equal(ReasonCodes.Forbidden, await notes.CheckAsync(tenant, "bot", "fileSystem:read", "/workspace/a.txt", stranger));

        // The kernel's grains stay sealed to a client without a session, the platform's or any.
        var direct = await Assert.ThrowsAsync<CallRefusedException>(() => platformClient.GetGrain<IAgentGrain>(AgentKey.Of(tenant, "bot")).CheckAsync(new CheckRequest("fileSystem:read", "/workspace/a.txt")));
        Assert.Equal(ReasonCodes.Unauthenticated, direct.Code);
    }

    [Fact]
    public async Task CoHostedSilo_ExecuteWithoutSandboxes_AnswersUnavailable()
    {
        await using var silo = await CoHostedSilo.StartAsync(_azurite.ConnectionString, ServiceId, FreePorts.Next(), FreePorts.Next(), _auditKeyFile);
        var tenant = "nosandbox-" + Guid.NewGuid().ToString("N")[..8];
        var issuedAt = DateTimeOffset.UtcNow.AddMinutes(-1);
        await using var service = await silo.ConnectServiceAsync();
        await TenantWithGrantAsync(service.Client, tenant, issuedAt);

        var result = await service.Client.ExecuteAsync(tenant, "bot", new ExecutionRequest { Runtime = "js", Code = "1 + 1"u8.ToArray(), Input = "" });

        Assert.Equal(ReasonCodes.Unavailable, result.Error);
        Assert.Contains("AddAgentSecuritySandboxes", result.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Development", null, true)]
    [InlineData("Production", null, false)]
    [InlineData("Production", "key file", true)]
    public async Task CoHostedSilo_AuditKeyOutsideDevelopment_IsRequiredAtStart(string environment, string? keyFile, bool starts)
    {
        var start = () => CoHostedSilo.StartAsync(_azurite.ConnectionString, ServiceId, FreePorts.Next(), FreePorts.Next(),
            keyFile is null ? null : _auditKeyFile, environment);
        if (starts)
        {
            await using var silo = await start();
        }
        else
        {
            var refused = await Assert.ThrowsAnyAsync<Microsoft.Extensions.Options.OptionsValidationException>(start);
            Assert.Contains("AgentSecurity:Audit:KeyFile", refused.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("platform", null, "platform")]
    [InlineData("42", "platform42", "platform42")]
    public async Task CoHostedSilo_StorageNamePrefix_StartsEveryKernelTable(string serviceId, string? prefix, string expected)
    {
        await using (await CoHostedSilo.StartAsync(_azurite.ConnectionString, serviceId, FreePorts.Next(), FreePorts.Next(), _auditKeyFile, namePrefix: prefix))
        {
        }

        var tables = new List<string>();
        await foreach (var table in new TableServiceClient(_azurite.ConnectionString).QueryAsync())
        {
            tables.Add(table.Name);
        }

        Assert.Contains(expected + "grains", tables);
    }

    [Theory]
    [InlineData("agentsec", "Bad-Prefix", "must be a lowercase letter")]
    [InlineData("agentsec", "a23456789012345678901234x", "at most 24 characters")]
    public async Task CoHostedSilo_NoValidStorageNamePrefix_RefusesToStart(string serviceId, string? prefix, string message)
    {
        var refused = await Assert.ThrowsAnyAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            CoHostedSilo.StartAsync(_azurite.ConnectionString, serviceId, FreePorts.Next(), FreePorts.Next(), _auditKeyFile, namePrefix: prefix));
        Assert.Contains(message, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CoHostedSilo_NamePrefixAnotherServiceClaimed_RefusesToStart()
    {
        await using (await CoHostedSilo.StartAsync(_azurite.ConnectionString, "service-a", FreePorts.Next(), FreePorts.Next(), _auditKeyFile, namePrefix: "shared"))
        {
        }

        // The same service again is welcome; another one on the same names would share its tenants, grants and logs.
        await using (await CoHostedSilo.StartAsync(_azurite.ConnectionString, "service-a", FreePorts.Next(), FreePorts.Next(), _auditKeyFile, namePrefix: "shared"))
        {
        }

        var refused = await Assert.ThrowsAnyAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            CoHostedSilo.StartAsync(_azurite.ConnectionString, "service-b", FreePorts.Next(), FreePorts.Next(), _auditKeyFile, namePrefix: "shared"));
        Assert.Contains("hold the state of service \"service-a\"", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CoHostedSilo_PlatformGrain_NeverHoldsTheKernelsToken()
    {
        await using var silo = await CoHostedSilo.StartAsync(_azurite.ConnectionString, ServiceId, FreePorts.Next(), FreePorts.Next(), _auditKeyFile);
        await using var platformClient = await silo.ConnectPlatformClientAsync();

        // Called from the silo's own code, from the platform's client, and by the kernel's stream plumbing alike: a platform
        // grain could hand on whatever its request context holds (a stream message carries it), so the token is never there.
        Assert.Null(await silo.Grains.GetGrain<IPlatformNotesGrain>("token").RequestContextValueAsync(CallerContext.KernelKey));
        Assert.Null(await platformClient.GetGrain<IPlatformNotesGrain>("token").RequestContextValueAsync(CallerContext.KernelKey));
        Assert.Null(await platformClient.GetGrain<IPlatformNotesGrain>("token").RequestContextValueAsync(CallerContext.PrincipalKey));

        // Stream deliveries are Orleans' calls, stamped as the kernel's: the grain receives them without the token.
        var notes = silo.Grains.GetGrain<IPlatformNotesGrain>("delivered");
        await notes.SubscribeAsync();
        await silo.PublishAsync("delivered", "one");
        Assert.Equal(["one"], await notes.WaitForReceivedAsync(1));
        Assert.Equal([null], await notes.KernelKeysAtDeliveryAsync());

        // Nor what a client claims to be: a value under the kernel's key, or a principal, never reaches the grain.
        RequestContext.Set(CallerContext.KernelKey, "claimed");
        RequestContext.Set(CallerContext.PrincipalKey, "did:key:claimed");
        try
        {
            Assert.Null(await platformClient.GetGrain<IPlatformNotesGrain>("token").RequestContextValueAsync(CallerContext.KernelKey));
            Assert.Null(await platformClient.GetGrain<IPlatformNotesGrain>("token").RequestContextValueAsync(CallerContext.PrincipalKey));
        }
        finally
        {
            RequestContext.Clear();
        }
    }

    [Fact]
    public async Task CoHostedSilo_SecurityEventsOnThePlatformsStreamProvider_NeverReachTheAuditLog()
    {
        using var log = new RecordingLoggerProvider();
        await using var silo = await CoHostedSilo.StartAsync(_azurite.ConnectionString, ServiceId, FreePorts.Next(), FreePorts.Next(), _auditKeyFile, log: log);
        var tenant = "forged-" + Guid.NewGuid().ToString("N")[..8];
        var issuedAt = DateTimeOffset.UtcNow.AddMinutes(-1);
        await using var service = await silo.ConnectServiceAsync();
        await TenantWithGrantAsync(service.Client, tenant, issuedAt);

        // Anyone who can publish on a stream provider of the silo can name the audit namespace and a tenant: Orleans
        // subscribes the tenant's audit grain to it. Only the kernel's own provider may feed the log.
        var forged = new DecisionEvent
        {
            Id = "forged-" + Guid.NewGuid().ToString("N"), Type = SecurityEventTypes.CheckDenied, TenantId = tenant, AgentId = "bot",
            Time = DateTimeOffset.UtcNow, Reason = ReasonCodes.OutOfScope, Capability = "fileSystem:read", Resource = "/forged",
        };
        await silo.PublishAsync(AuditStreams.For(tenant), forged);
        await log.WaitForAsync(m => m.Contains($"{PlatformNotesGrain.StreamProvider}/{AuditStreams.For(tenant)}", StringComparison.Ordinal) && m.Contains("is not the kernel's", StringComparison.Ordinal), TimeSpan.FromSeconds(30));

        var seen = new List<DecisionEvent>();
        var real = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (await service.Client.SubscribeAsync(tenant, e =>
        {
            if (e is DecisionEvent decision)
            {
                lock (seen)
                {
                    seen.Add(decision);
                }

                if (decision.Resource == "/real")
                {
                    real.TrySetResult();
                }
            }

            return Task.CompletedTask;
        }, afterSequence: 0))
        {
            Assert.Equal(ReasonCodes.OutOfScope, (await service.Client.CheckAsync(tenant, "bot", new CheckRequest("fileSystem:read", "/real"))).Reason);
            await real.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }

        lock (seen)
        {
            Assert.DoesNotContain(seen, e => e.Resource == "/forged");
        }
    }

    /// <summary>Creates <paramref name="tenant"/> (root <see cref="TestKeys.Root"/>) and gives its agent <c>bot</c> the test grant.</summary>
    private static async Task TenantWithGrantAsync(Client.AgentSecurityClient client, string tenant, DateTimeOffset issuedAt)
    {
        Assert.Null((await client.CreateTenantAsync(TestDocuments.Tenant(tenant, issuedAt, TestKeys.Root.Did.Value).SignWith(TestKeys.Operator))).Error);
        Assert.Null((await client.ApplyGrantAsync(TestDocuments.Grant(tenant, "bot", issuedAt).SignWith(TestKeys.Root))).Error);
    }
}
