using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Abstractions.Kernel;
using AgentSecurity.Grants.Access;
using AgentSecurity.Audit.Chain;
using AgentSecurity.Cli.Bench;
using AgentSecurity.Client;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Crypto;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Json;
using Azure;
using Azure.Data.Tables;

namespace AgentSecurity.Cli.Commands;

/// <summary>
/// <c>bench audit</c>: how many security events per second one tenant's log makes durable (hash chain, Merkle frontier,
/// checkpoints, Azure Table transactions), next to the same events written as raw table transactions in the log's
/// page shape, delivery by delivery, the two interleaved; and next to a row per event, round by round. Then the
/// end-to-end latency of a denial to a subscriber of the tenant's stream.
/// </summary>
internal static class BenchAuditCommand
{
    /// <summary>A transaction of rows, one per event: 99 and the head.</summary>
    private const int RowsPerTransaction = 99;

    /// <summary>The log's storage shape (<c>AzureTableAuditLogStore</c>): pages of 32 records, up to 256 records a transaction.</summary>
    private const int RecordsPerPage = 32;

    private const int RecordsPerTransaction = 256;

    public static Command Create(CliApp app, Option<string> operatorKey)
    {
        var events = new Option<int>("--events") { Description = "Events per round and kind (default 10000)", DefaultValueFactory = _ => 10_000 };
        var batch = new Option<int>("--batch") { Description = "Events per delivery to the log, as the stream batches them; one storage transaction each (default 256)", DefaultValueFactory = _ => 256 };
        var rounds = new Option<int>("--rounds") { Description = "Alternating rounds of the three kinds of write (default 5)", DefaultValueFactory = _ => 5 };
        var latencyEvents = new Option<int>("--latency-events") { Description = "Denials timed to the subscriber (default 200)", DefaultValueFactory = _ => 200 };
        var storage = new Option<string?>("--storage")
        {
            Description = "Storage connection string of the cluster (default: $AGENTSEC_STORAGE, else the local emulator)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("AGENTSEC_STORAGE"),
        };
        var auditKey = new Option<string>("--audit-key")
        {
            Description = "The cluster's audit key file: appending to a log is the kernel's own call, which only its holder can make (default: $AGENTSEC_AUDIT_KEY, else audit.key in $AGENTSEC_STATE_DIR or .agentsec)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("AGENTSEC_AUDIT_KEY") is { Length: > 0 } k ? k : Path.Combine(DevelopmentFiles.Directory, "audit.key"),
        };
        var command = new Command("audit", "Durable audit events per second for one tenant against raw batched table writes, and event latency to a subscriber")
        {
            events, batch, rounds, latencyEvents, storage, operatorKey, auditKey,
        };
        command.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            var (n, b, r, l) = (result.GetValue(events), result.GetValue(batch), result.GetValue(rounds), result.GetValue(latencyEvents));
            if (n is < 100 or > 10_000_000 || b is < 1 or > 256 || r is < 1 or > 100 || l is < 0 or > 100_000)
            {
                return output.Usage("--events 100..10000000, --batch 1..256, --rounds 1..100, --latency-events 0..100000");
            }

            if (CommandSupport.ReadKey(output, result.GetRequiredValue(operatorKey), out var bad) is not { } operatorSigner)
            {
                return bad;
            }

            if (CommandSupport.ReadKey(output, result.GetRequiredValue(auditKey), out var badAuditKey) is not { } clusterKey)
            {
                return badAuditKey;
            }

            var connectionString = result.GetValue(storage) ?? "UseDevelopmentStorage=true";
            var serviceId = Environment.GetEnvironmentVariable("AGENTSEC_SERVICE_ID") is { Length: > 0 } service ? service : "agentsec";
            var (connection, problem) = await ClusterConnection.ConnectAsync(result.GetValue(CliApp.GatewayOption), operatorSigner, cancellation,
                KernelTokens.Derive(clusterKey, serviceId));
            if (connection is null)
            {
                return output.Error(problem!.Code, problem.Message);
            }

            await using (connection)
            {
                // The raw rows go to the log's own table, in partitions of their own: the same storage, as full as
                // the log's (the storage emulator slows down as a table grows), and removed afterwards.
                var raw = new RawTable(new TableServiceClient(connectionString).GetTableClient(LogTable), $"bench-raw-{Guid.NewGuid():N}"[..20]);
                try
                {
                    return await RunAsync(connection, raw, operatorSigner, new Plan(n, b, r, l), output, cancellation);
                }
                finally
                {
                    await raw.RemoveAsync();
                }
            }
        });
        return command;
    }

    private sealed record Plan(int Events, int Batch, int Rounds, int LatencyEvents);

    /// <summary>The table the cluster keeps audit logs in (<c>AzureTableAuditLogStore</c>'s default).</summary>
    private const string LogTable = "agentsecauditlog";

    /// <summary>Partitions of the benchmark's raw rows (<see cref="Prefix"/> + a name) in the log's table.</summary>
    private sealed record RawTable(TableClient Table, string Prefix)
    {
        public async Task RemoveAsync()
        {
            var filter = TableClient.CreateQueryFilter($"PartitionKey ge {Prefix} and PartitionKey lt {Prefix + "~"}");
            var rows = new List<TableEntity>();
            await foreach (var row in Table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"]))
            {
                rows.Add(row);
            }

            foreach (var partition in rows.GroupBy(r => r.PartitionKey))
            {
                foreach (var chunk in partition.Chunk(100))
                {
                    await Table.SubmitTransactionAsync(chunk.Select(e => new TableTransactionAction(TableTransactionActionType.Delete, e, ETag.All)));
                }
            }
        }
    }

    private static async Task<int> RunAsync(ClusterConnection connection, RawTable raw, SigningKey operatorSigner, Plan plan, CliOutput output, CancellationToken cancellation)
    {
        var client = connection.Client;
        var (events, batch, rounds, latencyEvents) = plan;
        // Latency first, before the throughput rounds fill the storage emulator (whose saves then pause it for longer).
        var latency = latencyEvents > 0 ? await MeasureLatencyAsync(client, operatorSigner, latencyEvents, output) : null;

        // The log needs no tenant document to take appends; a throw-away tenant id keeps the run apart.
        var tenant = $"bench-audit-{Guid.NewGuid():N}"[..24];
        // Appends come as the stream delivers them, as the kernel's own calls: this process holds the cluster's key.
        var log = connection.Cluster.GetGrain<IAuditKernelGrain>(tenant);
        ClusterConnection.ActAsKernel();
        var logTimes = new List<double>();
        var pageTimes = new List<double>();
        var grainTimes = new List<double>();
        var rowRates = new List<double>();
        var next = 0;
        output.Progress($"warming up, then {rounds} rounds of {events} events each way (tenant {tenant})...");
        // Warm-up long enough for the silo's and this process's code to reach their optimized (tier-1) builds.
        const int warmup = 5_000;
        await CompareAsync(log, raw, Events(tenant, next, warmup), batch, "warmup", [], [], [], cancellation);
        next += warmup;
        await WriteRawAsync(raw, Events(tenant, 0, warmup / 4), 1, "warmup-rows", cancellation);
        for (var round = 1; round <= rounds; round++)
        {
            var sample = Events(tenant, next, events);
            next += events;
            rowRates.Add(events / await WriteRawAsync(raw, sample, 1, $"rows{round}", cancellation));
            var (logSeconds, pageSeconds) = await CompareAsync(log, raw, sample, batch, $"pages{round}", logTimes, pageTimes, grainTimes, cancellation);
            output.Progress($"round {round}: log {events / logSeconds:F0} events/s; raw pages {events / pageSeconds:F0} events/s; raw rows {rowRates[^1]:F0} events/s");
        }

        var verification = await log.VerifyAsync();

        // Per delivery, then the median: a pause of the storage emulator (saving its files) spoils a delivery or two of
        // either kind, not the figure. Rates over the whole run, pauses included, are reported beside.
        var logRate = batch / LoadPhase.Median(logTimes);
        var pageRate = batch / LoadPhase.Median(pageTimes);
        var rowRate = LoadPhase.Median(rowRates);
        var report = new
        {
            eventsPerSecond = Math.Round(logRate),
            rawPagesEventsPerSecond = Math.Round(pageRate),
            ratio = Math.Round(logRate / pageRate, 3),
            inSiloEventsPerSecond = Math.Round(batch / LoadPhase.Median(grainTimes)),
            inSiloRatio = Math.Round(batch / LoadPhase.Median(grainTimes) / pageRate, 3),
            eventsPerSecondWithPauses = Math.Round(logTimes.Count * batch / logTimes.Sum()),
            rawPagesEventsPerSecondWithPauses = Math.Round(pageTimes.Count * batch / pageTimes.Sum()),
            ratioWithPauses = Math.Round(pageTimes.Sum() / logTimes.Sum(), 3),
            rawRowsEventsPerSecond = Math.Round(rowRate),
            ratioToRows = Math.Round(logRate / rowRate, 3),
            records = verification.Records,
            logValid = verification.Valid,
            checkpoints = verification.Checkpoints,
            latencyP50Ms = latency is null ? (double?)null : Math.Round(latency.Value.P50, 1),
            latencyP99Ms = latency is null ? (double?)null : Math.Round(latency.Value.P99, 1),
            denialReturnP50Ms = latency is null ? (double?)null : Math.Round(latency.Value.ReturnP50, 1),
            latencyEvents,
            latencyMissing = latency?.Missing ?? 0,
            events,
            batch,
            rounds,
        };
        var healthy = verification.Valid && report.latencyMissing == 0;
        return output.Answer(healthy ? ExitCodes.Ok : ExitCodes.No, report,
            $"audit log: {report.eventsPerSecond:F0} durable events/s for one tenant (deliveries of {batch}, one after another)\n" +
            $"raw table transactions in the log's page shape: {report.rawPagesEventsPerSecond:F0} events/s -> ratio {report.ratio}\n" +
            $"  (medians per delivery, the two kinds interleaved; over the whole run, storage pauses included: {report.eventsPerSecondWithPauses:F0} against {report.rawPagesEventsPerSecondWithPauses:F0} -> ratio {report.ratioWithPauses})\n" +
            $"the log as a delivery of the stream sees it (inside the silo, no client hop): {report.inSiloEventsPerSecond:F0} events/s -> ratio {report.inSiloRatio}\n" +
            $"raw table transactions of a row per event: {report.rawRowsEventsPerSecond:F0} events/s -> ratio {report.ratioToRows} (median of {rounds} rounds)\n" +
            $"log {(verification.Valid ? "verified" : "INVALID")}: {verification.Records} records, {verification.Checkpoints} checkpoints" +
            (latency is null ? string.Empty :
                $"\ndenial to subscriber: p50 {report.latencyP50Ms} ms, p99 {report.latencyP99Ms} ms over {latencyEvents} (the denial call itself: p50 {report.denialReturnP50Ms} ms); missing {report.latencyMissing}"));
    }

    /// <summary>Check-denied events as agents produce them; agent ids vary so that no detection rule fires on the benchmark.</summary>
    private static SecurityEvent[] Events(string tenant, int first, int count) =>
        Enumerable.Range(first, count).Select(i => (SecurityEvent)new DecisionEvent
        {
            Id = Guid.NewGuid().ToString("N"),
            Type = SecurityEventTypes.CheckDenied,
            TenantId = tenant,
            AgentId = $"agent-{i % 4096}",
            Capability = "fileSystem:read",
            Resource = $"/workspace/projects/p{i % 97}/src/file-{i}.txt",
            GrantId = $"grant-{i % 4096}",
            Reason = ReasonCodes.OutOfScope,
            Message = "no fileSystem scope of the grant covers the resource",
            Silo = "S127.0.0.1:11111:0",
            TraceId = ActivityTraceId.CreateRandom().ToHexString(),
            Time = TimeProvider.System.GetUtcNow(),
        }).ToArray();

    /// <summary>
    /// Each delivery of <paramref name="batch"/> events made durable through the tenant's log grain and, interleaved
    /// with it (taking turns at going first), the same events written straight to the table in the log's page shape;
    /// the seconds each took are added to the lists, the totals returned.
    /// </summary>
    private static async Task<(double Log, double Pages)> CompareAsync(
        IAuditKernelGrain log, RawTable raw, SecurityEvent[] events, int batch, string name, List<double> logTimes, List<double> pageTimes, List<double> grainTimes, CancellationToken cancellation)
    {
        var (logTotal, pageTotal) = (0.0, 0.0);
        var deliveries = events.Chunk(batch).ToArray();
        for (var k = 0; k < deliveries.Length; k++)
        {
            var logFirst = k % 2 == 0;
            var pages = logFirst ? 0 : await WriteRawAsync(raw, deliveries[k], RecordsPerPage, $"{name}-{k}", cancellation);
            var started = Stopwatch.GetTimestamp();
            var result = await log.AppendAsync(deliveries[k]);
            var appended = Stopwatch.GetElapsedTime(started).TotalSeconds;
            grainTimes.Add(result.ElapsedMilliseconds / 1000);
            pages = logFirst ? await WriteRawAsync(raw, deliveries[k], RecordsPerPage, $"{name}-{k}", cancellation) : pages;
            (logTotal, pageTotal) = (logTotal + appended, pageTotal + pages);
            logTimes.Add(appended);
            pageTimes.Add(pages);
        }

        return (logTotal, pageTotal);
    }

    /// <summary>
    /// Seconds to write the same events straight to the table, one transaction after another as the log does, either a
    /// row per event (<paramref name="perRow"/> 1, transactions of 99 rows and a head) or in the log's page shape
    /// (<see cref="RecordsPerPage"/> records a row, <see cref="RecordsPerTransaction"/> records a transaction).
    /// </summary>
    private static async Task<double> WriteRawAsync(RawTable raw, SecurityEvent[] events, int perRow, string name, CancellationToken cancellation)
    {
        var (table, partition) = (raw.Table, $"{raw.Prefix}-{name}");
        // Events serialized beforehand, rows built while timed: the baseline is storing the events as rows, no more.
        var hash = new string('0', 64);
        var json = events.Select(SecurityEventJson.Write).ToArray();
        var started = Stopwatch.GetTimestamp();
        var rows = json.Select((_, i) => i).Chunk(perRow).Select(page =>
        {
            var row = new TableEntity(partition, AzureRowKey(page[0] + 1)) { ["Count"] = page.Length };
            for (var k = 0; k < page.Length; k++)
            {
                (row[$"Id{k}"], row[$"Event{k}"], row[$"Prev{k}"], row[$"Hash{k}"]) = (events[page[k]].Id, json[page[k]], hash, hash);
            }

            return row;
        }).ToArray();
        var rowsPerTransaction = perRow == 1 ? RowsPerTransaction : RecordsPerTransaction / perRow;
        var written = 0L;
        foreach (var chunk in rows.Chunk(rowsPerTransaction))
        {
            written += chunk.Length;
            var head = new TableEntity(partition, "head") { ["Sequence"] = written, ["Hash"] = hash, ["Frontier"] = hash };
            await table.SubmitTransactionAsync(
                chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Add, r))
                    .Append(new TableTransactionAction(TableTransactionActionType.UpsertReplace, head)), cancellation);
        }

        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private static string AzureRowKey(long sequence) => "r" + sequence.ToString("D19", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Denials by real agents, one at a time at a steady pace, each timed from the start of its check to its arrival at a
    /// subscriber of the tenant's stream (a client of the cluster, as a SIEM forwarder would be).
    /// </summary>
    private static async Task<(double P50, double P99, double ReturnP50, int Missing)?> MeasureLatencyAsync(
        AgentSecurityClient client, SigningKey operatorSigner, int count, CliOutput output)
    {
        using var root = SigningKey.Generate();
        var tenant = $"bench-{Guid.NewGuid():N}"[..18];
        var now = CliTime.Now;
        var created = await client.CreateTenantAsync(new DocumentSigner(DocumentTypes.Tenant).Add("tenantId", tenant)
            .Add("rootDids", DocumentSigner.StringArray([root.Did.Value])).Add("issuedAt", now).Sign(operatorSigner));
        if (!created.Created)
        {
            output.Progress($"tenant: {created.Error}: {created.Message}");
            return null;
        }

        // Sixteen agents share the denials, so the deny-burst rule (50 in 10 s per agent by default) stays quiet.
        const int agents = 16;
        var capabilities = new JObject(
        [
            new("fileSystem", new JString("read")), new("network", new JString("none")), new("memory", new JString("none")),
            new("subprocess", JBool.False), new("vectorDb", JBool.False), new("llm", JBool.False),
        ]);
        for (var i = 0; i < agents; i++)
        {
            var applied = await client.ApplyGrantAsync(new DocumentSigner(DocumentTypes.Grant).Add("grantId", $"lat-{i}").Add("tenantId", tenant)
                .Add("agentId", $"a{i}").Add("capabilities", capabilities).Add("environmentIsolation", "external")
                .Add("issuedAt", now).Add("expiresAt", now.AddHours(1)).Sign(root));
            if (!applied.Applied)
            {
                output.Progress($"grant: {applied.Error}: {applied.Message}");
                return null;
            }
        }

        var started = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var arrived = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        await using var subscription = await client.SubscribeAsync(tenant, e =>
        {
            if (e is DecisionEvent { Resource: { } resource })
            {
                arrived.TryAdd(resource, Stopwatch.GetTimestamp());
            }

            return Task.CompletedTask;
        });

        output.Progress($"timing {count} denials to a subscriber...");
        var returns = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var resource = $"/bench/latency-{i}";
            var start = Stopwatch.GetTimestamp();
            started[resource] = start;
            var decision = await client.CheckAsync(tenant, $"a{i % agents}", new CheckRequest("subprocess", resource));
            returns.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            if (decision.Allowed)
            {
                throw new InvalidOperationException("a benchmark check that must be denied was allowed");
            }

            await Task.Delay(25);
        }

        var deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 30);
        while (arrived.Count < count && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(50);
        }

        var latencies = started.Where(p => arrived.ContainsKey(p.Key)).Select(p => arrived[p.Key] - p.Value).ToArray();
        return (LoadPhase.PercentileMillis(latencies, 50), LoadPhase.PercentileMillis(latencies, 99),
            LoadPhase.Median(returns), count - latencies.Length);
    }
}
