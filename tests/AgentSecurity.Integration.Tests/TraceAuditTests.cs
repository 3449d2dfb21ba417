using System.Text.Json;
using AgentSecurity.Audit.Chain;
using AgentSecurity.Audit.Merkle;
using AgentSecurity.Grants;
using AgentSecurity.Integration.Tests.Infrastructure;

namespace AgentSecurity.Integration.Tests;

/// <summary>
/// A silo process that exports to a collector (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, a local OTLP/HTTP receiver), driven
/// and audited with the built <c>agentsec</c> as a user and an auditor would: a trace an auditor can verify.
/// </summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class TraceAuditTests(ClusterProcessFixture cluster)
{
    private static readonly TimeSpan ExportWait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task DeniedCheck_CollectorEndpointSet_ItsSpanLeadsToAnInclusionProofAuditProveAccepts()
    {
        await using var receiver = new OtlpReceiver();

        // A cluster of its own on the shared Azurite (its own service id: its own event queues), exporting to the
        // receiver with short export intervals, and a signed checkpoint with every append.
        var clusterId = $"otlp-{Guid.NewGuid():N}"[..20];
        using var silo = new SiloProcess(cluster.StorageConnectionString, cluster.Operator.Did.Value, clusterId, cluster.AuditKeyFile, cluster.SiloSettings(new Dictionary<string, string>
        {
            ["AGENTSEC_SERVICE_ID"] = clusterId,
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
            ["AgentSecurity__Audit__CheckpointEveryRecords"] = "1",
        }));
        await silo.StartAsync();
        var environment = new Dictionary<string, string>
        {
            ["AGENTSEC_GATEWAY"] = $"127.0.0.1:{silo.GatewayPort}",
            ["AGENTSEC_CLUSTER_ID"] = clusterId,
            ["AGENTSEC_SERVICE_ID"] = clusterId,
        };
        Task<CliResult> Agentsec(params string[] args) => cluster.RunAsync("dotnet", [BuiltArtifacts.Cli, .. args], environment);

        var tenant = "otlp-" + Guid.NewGuid().ToString("N")[..10];
        var rootKey = cluster.PathOf($"{tenant}-root.key");
        var root = (await Agentsec("key", "new", "--out", rootKey, "--json")).Field("did");
        var created = await Agentsec("tenant", "create", tenant, "--root", root, "--operator-key", cluster.OperatorKeyFile, "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        var grantFile = cluster.PathOf($"{tenant}.grant.json");
        var signed = await Agentsec("grant", "sign", "--key", rootKey, "--tenant", tenant, "--agent", "bot", "--fs", "read",
            "--scope", "fileSystem=/workspace/**", "--expires-in", "1h", "--out", grantFile, "--json");
        Assert.True(signed.ExitCode == 0, signed.ToString());
        var applied = await Agentsec("grant", "apply", grantFile, "--json");
        Assert.True(applied.ExitCode == 0, applied.ToString());

        var denied = await Agentsec("check", $"{tenant}/bot", "fileSystem:read", "--resource", "/etc/shadow", "--json");
        Assert.Equal(1, denied.ExitCode);
        Assert.Equal(ReasonCodes.OutOfScope, denied.Field("reason"));

        // The auditor's side: the denied check's span, and the span of its audit record in the same trace.
        var check = await receiver.WaitForAsync(() => receiver.Spans.FirstOrDefault(s =>
            s.Name == "agentsec.check" && Equals(s.Attributes.GetValueOrDefault("agentsec.tenant"), tenant)), ExportWait, "the denied check's span");
        Assert.Equal("agentsec-silo", check.Resource["service.name"]);
        Assert.Equal(clusterId, check.Resource["orleans.cluster.id"]);
        Assert.False(string.IsNullOrEmpty(check.Resource["orleans.silo.name"] as string));
        Assert.Equal(false, check.Attributes["agentsec.allowed"]);
        Assert.Equal(ReasonCodes.OutOfScope, check.Attributes["agentsec.reason"]);
        var eventId = Assert.IsType<string>(check.Attributes["agentsec.audit.event_id"]);
        var record = await receiver.WaitForAsync(() => receiver.Spans.FirstOrDefault(s =>
            s.Name == "agentsec.audit.record" && s.TraceId == check.TraceId && s.ParentSpanId == check.SpanId), ExportWait, "the span of the denial's audit record");
        Assert.Equal(eventId, record.Attributes["agentsec.audit.event_id"]);
        Assert.Equal(tenant, record.Attributes["agentsec.tenant"]);
        var sequence = Assert.IsType<long>(record.Attributes["agentsec.audit.sequence"]);

        // What the log holds at that sequence is the denial, under the span's trace: its leaf is the one proved.
        var tail = await Agentsec("audit", "tail", tenant, "--last", "100", "--json");
        Assert.True(tail.ExitCode == 0, tail.ToString());
        var eventJson = tail.Stdout.Split('\n').Single(line => Member(line, "id") == eventId);
        Assert.Equal("check.denied", Member(eventJson, "type"));
        Assert.Equal(check.TraceId, Member(eventJson, "traceId"));

        var prove = await Agentsec("audit", "prove", tenant, $"{sequence}", "--json");
        Assert.True(prove.ExitCode == 0, prove.ToString());
        var proof = prove.Json;
        var treeSize = proof.GetProperty("treeSize").GetInt64();
        var leafHash = Convert.FromHexString(proof.GetProperty("leafHash").GetString()!);
        Assert.Equal(AuditChain.LeafHash(sequence, eventJson), leafHash);
        var nodes = proof.GetProperty("proof").EnumerateArray().Select(n => Convert.FromHexString(n.GetString()!)).ToArray();
        Assert.True(MerkleProofs.VerifyInclusion(sequence - 1, treeSize, leafHash, nodes, Convert.FromHexString(proof.GetProperty("root").GetString()!)));

        // The tree proved in is a signed checkpoint's, and the log with its checkpoints verifies.
        var verify = await Agentsec("audit", "verify", tenant, "--json");
        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.True(verify.Json.GetProperty("valid").GetBoolean());
        Assert.True(verify.Json.GetProperty("checkpoints").GetInt64() >= 1);

        // Metrics and logs go to the collector too, with the same resource; Prometheus stays.
        var metric = await receiver.WaitForAsync(() => receiver.Metrics.Where(m => m.Name == "agentsec.checks").Select(m => m.Resource).FirstOrDefault(), ExportWait, "agentsec.checks");
        Assert.Equal("agentsec-silo", metric["service.name"]);
        Assert.Equal(clusterId, metric["orleans.cluster.id"]);
        var logs = await receiver.WaitForAsync(() => receiver.Logs.Select(l => l.Resource).FirstOrDefault(), ExportWait, "log records");
        Assert.Equal("agentsec-silo", logs["service.name"]);
        using var http = new HttpClient();
        var prometheus = await http.GetStringAsync(new Uri($"http://127.0.0.1:{silo.HttpPort}/metrics"));
        Assert.Contains("agentsec_checks", prometheus, StringComparison.Ordinal);
    }

    private static string? Member(string json, string name)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.TryGetProperty(name, out var value) ? value.GetString() : null;
    }
}
