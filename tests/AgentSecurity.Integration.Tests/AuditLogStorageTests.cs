using System.Text.Json;
using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Audit.Export;
using AgentSecurity.Client;
using AgentSecurity.Grants;
using AgentSecurity.Hosting;
using AgentSecurity.Integration.Tests.Infrastructure;
using AgentSecurity.Testing;
using Azure.Data.Tables;

namespace AgentSecurity.Integration.Tests;

/// <summary>
/// The audit log as it lies in Azure Table storage (Azurite): rows changed behind the cluster's back are found by
/// <c>agentsec audit verify</c>, and the exports and the live tail work against the real stream.
/// </summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class AuditLogStorageTests(ClusterProcessFixture cluster)
{
    private const int Denials = 10;

    /// <summary>The table the silo keeps audit records in (<c>AzureTableAuditLogStore</c>'s default).</summary>
    private TableClient LogTable => new TableServiceClient(cluster.StorageConnectionString).GetTableClient("agentsecauditlog");

    /// <summary>A tenant whose log holds: tenant created (1), grant applied (2), then <see cref="Denials"/> denials, all under a checkpoint.</summary>
    private async Task<(string Tenant, AgentSecurityClient Client, OrleansClientHost Host)> TenantWithLogAsync(string prefix)
    {
        var host = await cluster.ConnectClientAsync();
        var client = host.Client;
        var tenant = prefix + "-" + Guid.NewGuid().ToString("N")[..10];
        var issuedAt = DateTimeOffset.UtcNow.AddMinutes(-1);
        Assert.Null((await client.CreateTenantAsync(TestDocuments.Tenant(tenant, issuedAt, TestKeys.Root.Did.Value).SignWith(cluster.Operator))).Error);
        Assert.Null((await client.ApplyGrantAsync(TestDocuments.Grant(tenant, "bot", issuedAt).SignWith(TestKeys.Root))).Error);
        for (var i = 0; i < Denials; i++)
        {
            Assert.Equal(ReasonCodes.OutOfScope, (await client.CheckAsync(tenant, "bot", new CheckRequest("fileSystem:read", $"/etc/secret-{i}"))).Reason);
        }

        var audit = client.Audit(tenant);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await audit.GetHeadAsync()).LastSequence < Denials + 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100); // a poll of the log's head in storage (written by the silo's queue reader), with a deadline
        }

        Assert.Equal(Denials + 2, (await audit.GetHeadAsync()).LastSequence);
        Assert.NotNull(await audit.CheckpointAsync());
        return (tenant, client, host);
    }

    public static TheoryData<string, long> Tamperings => new()
    {
        { "modify", 5 },
        { "delete", 5 },
        { "swap", 5 },
        { "insert", 5 },
        { "truncate behind the checkpoint", 9 },
    };

    [Theory]
    [MemberData(nameof(Tamperings))]
    public async Task AuditVerify_TableRowsChangedInStorage_ReportsTheFirstBadSequence(string tampering, long firstBad)
    {
        var (tenant, _, host) = await TenantWithLogAsync("tamper");
        await using var _ = host;
        var intact = await cluster.AgentsecAsync("audit", "verify", tenant, "--json");
        Assert.True(intact.ExitCode == 0, intact.ToString());
        Assert.Equal((true, Denials + 2L, 1), (intact.Json.GetProperty("valid").GetBoolean(), intact.Json.GetProperty("records").GetInt64(), intact.Json.GetProperty("checkpoints").GetInt32()));

        // Tamper with the stored pages as someone with the storage key could: the records as stored, edited, put back.
        var table = LogTable;
        var pages = new List<TableEntity>();
        await foreach (var page in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {tenant} and RowKey ge {"p"} and RowKey lt {"q"}")))
        {
            pages.Add(page);
        }

        var records = pages.SelectMany(AzureTableAuditLogStore.FromEntity).ToList();
        Assert.Equal(Enumerable.Range(1, Denials + 2).Select(i => (long)i), records.Select(r => r.Sequence));
        switch (tampering)
        {
            case "modify":
                records[4] = records[4] with { EventJson = records[4].EventJson.Replace("/etc/secret-2", "/etc/harmless", StringComparison.Ordinal) };
                break;
            case "delete":
                records.RemoveAt(4);
                break;
            case "swap":
                (records[4], records[5]) = (records[5], records[4]);
                break;
            case "insert":
                // A forged copy of a real record slipped in at 5; everything after it moves down one.
                records.Insert(4, records[3] with { EventId = "forged" });
                break;
            default:
                records.RemoveRange(8, records.Count - 8);
                break;
        }

        foreach (var page in pages)
        {
            await table.DeleteEntityAsync(page);
        }

        // One record a page, numbered by position: what was removed or moved shows in the sequence numbers.
        for (var i = 0; i < records.Count; i++)
        {
            await table.AddEntityAsync(AzureTableAuditLogStore.ToEntity(tenant, [records[i] with { Sequence = i + 1 }]));
        }

        var verified = await cluster.AgentsecAsync("audit", "verify", tenant, "--json");

        Assert.True(verified.ExitCode == 1, verified.ToString());
        Assert.False(verified.Json.GetProperty("valid").GetBoolean());
        Assert.Equal(firstBad, verified.Json.GetProperty("firstBadSequence").GetInt64());
    }

    [Theory]
    [InlineData("ocsf")]
    [InlineData("cloudevents")]
    public async Task AuditExport_RealLog_EveryLineHasTheRequiredFieldsOfItsFormat(string format)
    {
        var (tenant, _, host) = await TenantWithLogAsync("export");
        await using var _ = host;

        var exported = await cluster.AgentsecAsync("audit", "export", tenant, "--format", format);

        Assert.True(exported.ExitCode == 0, exported.ToString());
        var lines = exported.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Denials + 2, lines.Length);
        foreach (var line in lines)
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            Assert.Empty(format == "ocsf" ? OcsfExport.MissingRequired(root) : CloudEventsExport.MissingRequired(root));
            var tenantOf = format == "ocsf"
                ? root.GetProperty("metadata").GetProperty("tenant_uid").GetString()
                : root.GetProperty("source").GetString();
            Assert.Equal(format == "ocsf" ? tenant : CloudEventsExport.TenantSource(tenant), tenantOf);
        }

        // The first denial is record 3, in the class or type its format gives a refused authorization.
        using var denial = JsonDocument.Parse(lines[2]);
        if (format == "ocsf")
        {
            Assert.Equal(3003, denial.RootElement.GetProperty("class_uid").GetInt32());
        }
        else
        {
            Assert.Equal(CloudEventsExport.TypePrefix + SecurityEventTypes.CheckDenied, denial.RootElement.GetProperty("type").GetString());
        }

        Assert.Contains("/etc/secret-0", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditTailFollow_DenialAfterSubscribing_IsPrintedLive()
    {
        var (tenant, client, host) = await TenantWithLogAsync("follow");
        await using var _ = host;
        var environment = cluster.CliEnvironment(); // through the cluster: no storage connection string
        using var tail = ChildProcess.Start("dotnet", [BuiltArtifacts.Cli, "audit", "tail", tenant, "--follow", "--last", "1"], environment);
        await WaitForAsync(() => tail.Output.Contains("following " + tenant, StringComparison.Ordinal), tail);
        Assert.Contains("/etc/secret-9", tail.Output, StringComparison.Ordinal); // the last recorded event came first

        Assert.Equal(ReasonCodes.OutOfScope, (await client.CheckAsync(tenant, "bot", new CheckRequest("fileSystem:read", "/etc/live-one"))).Reason);

        await WaitForAsync(() => tail.Output.Contains("/etc/live-one", StringComparison.Ordinal), tail);
        Assert.Contains(SecurityEventTypes.CheckDenied, tail.Output.Split('\n').Single(l => l.Contains("/etc/live-one", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    private static async Task WaitForAsync(Func<bool> condition, ChildProcess process)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            Assert.False(process.HasExited, $"agentsec exited:\n{process.Output}");
            Assert.True(DateTime.UtcNow < deadline, $"timed out; agentsec printed:\n{process.Output}");
            await Task.Delay(100); // a poll of the log's head in storage (written by the silo's queue reader), with a deadline
        }
    }
}
