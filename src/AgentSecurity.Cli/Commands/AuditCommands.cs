using System.CommandLine;
using System.Threading.Channels;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Audit.Export;

namespace AgentSecurity.Cli.Commands;

/// <summary>A tenant's audit log: follow it, verify it against storage, export it, prove records in it.</summary>
internal static class AuditCommands
{
    private const int Page = 500;

    public static Command Create(CliApp app) => new("audit", "A tenant's tamper-evident audit log")
    {
        Tail(app),
        Verify(app),
        Export(app),
        Prove(app),
    };

    private static Command Tail(CliApp app)
    {
        var tenant = new Argument<string>("TENANT") { Description = "Tenant id" };
        var follow = new Option<bool>("--follow") { Description = "Keep printing events as they enter the log (through the cluster, live; needs the audit right)" };
        var last = new Option<int>("--last") { Description = "How many recorded events to print first (default 20)", DefaultValueFactory = _ => 20 };
        var command = new Command("tail", "Print a tenant's recent security events as JSON lines, and with --follow every new one") { tenant, follow, last };
        command.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            var tenantId = result.GetRequiredValue(tenant);
            var follows = result.GetValue(follow);
            return await CommandSupport.WithClusterAsync(result, output, async client =>
            {
                var audit = client.Audit(tenantId);
                var head = await audit.GetHeadAsync();
                var from = Math.Max(1, head.LastSequence - Math.Max(0, result.GetValue(last)) + 1);
                foreach (var record in await audit.ReadAsync(from, Math.Max(0, result.GetValue(last))))
                {
                    Print(output, SecurityEventJson.Read(record.EventJson));
                }

                if (!follows)
                {
                    return ExitCodes.Ok;
                }

                // Events arrive on the client's threads, after what was printed above; one writer keeps lines whole.
                var channel = Channel.CreateUnbounded<SecurityEvent>();
                await using var subscription = await client.SubscribeAsync(tenantId, e => channel.Writer.WriteAsync(e).AsTask(), afterSequence: head.LastSequence);
                output.Progress($"following {tenantId}: events print as they are published (Ctrl-C stops)");
                try
                {
                    await foreach (var e in channel.Reader.ReadAllAsync(cancellation))
                    {
                        Print(output, e);
                    }
                }
                catch (OperationCanceledException)
                {
                    // Ctrl-C ends a follow.
                }

                return ExitCodes.Ok;
            }, cancellation);
        });
        return command;
    }

    private static Command Verify(CliApp app)
    {
        var tenant = new Argument<string>("TENANT") { Description = "Tenant id" };
        var command = new Command("verify", "Re-read the log from storage and check the chain, the checkpoints and their signatures") { tenant };
        command.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            return await CommandSupport.WithClusterAsync(result, output, async client =>
            {
                var verification = await client.Audit(result.GetRequiredValue(tenant)).VerifyAsync();
                return output.Answer(verification.Valid ? ExitCodes.Ok : ExitCodes.No,
                    new { valid = verification.Valid, records = verification.Records, firstBadSequence = verification.FirstBadSequence, checkpoints = verification.Checkpoints, problem = verification.Problem },
                    verification.Valid
                        ? $"valid: {verification.Records} records, {verification.Checkpoints} checkpoints"
                        : $"INVALID from sequence {verification.FirstBadSequence}: {verification.Problem} ({verification.Records} records, {verification.Checkpoints} valid checkpoints)");
            }, cancellation);
        });
        return command;
    }

    private static Command Export(CliApp app)
    {
        var tenant = new Argument<string>("TENANT") { Description = "Tenant id" };
        var format = new Option<string>("--format") { Description = "ocsf or cloudevents", Required = true };
        format.AcceptOnlyFromAmong("ocsf", "cloudevents");
        var from = new Option<long>("--from") { Description = "First sequence number (default 1)", DefaultValueFactory = _ => 1 };
        var command = new Command("export", "Write the log as JSON lines for security tooling (OCSF or CloudEvents 1.0)") { tenant, format, from };
        command.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            var tenantId = result.GetRequiredValue(tenant);
            return await CommandSupport.WithClusterAsync(result, output, async client =>
            {
                var audit = client.Audit(tenantId);
                var next = Math.Max(1, result.GetValue(from));
                while (!cancellation.IsCancellationRequested)
                {
                    var records = await audit.ReadAsync(next, Page);
                    foreach (var record in records)
                    {
                        var e = SecurityEventJson.Read(record.EventJson);
                        output.Out.WriteLine(result.GetValue(format) == "ocsf"
                            ? OcsfExport.ToJson(e, record.Sequence)
                            : CloudEventsExport.ToJson(e, record.Sequence, CloudEventsExport.TenantSource(tenantId)));
                    }

                    if (records.Count < Page)
                    {
                        break;
                    }

                    next = records[^1].Sequence + 1;
                }

                return ExitCodes.Ok;
            }, cancellation);
        });
        return command;
    }

    private static Command Prove(CliApp app)
    {
        var tenant = new Argument<string>("TENANT") { Description = "Tenant id" };
        var sequence = new Argument<long>("SEQUENCE") { Description = "The record to prove" };
        var size = new Option<long?>("--size") { Description = "Tree size to prove it in (default: the last checkpoint, else the whole log)" };
        var command = new Command("prove", "An RFC 6962 inclusion proof of one record") { tenant, sequence, size };
        command.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            return await CommandSupport.WithClusterAsync(result, output, async client =>
            {
                var audit = client.Audit(result.GetRequiredValue(tenant));
                var head = await audit.GetHeadAsync();
                var treeSize = result.GetValue(size) ?? (head.LastCheckpointSize >= result.GetValue(sequence) ? head.LastCheckpointSize : head.LastSequence);
                var proof = await audit.ProveInclusionAsync(result.GetValue(sequence), treeSize);
                return proof.Available
                    ? output.Answer(ExitCodes.Ok, new { sequence = result.GetValue(sequence), treeSize, leafHash = proof.LeafHash, root = proof.Root, proof = proof.Nodes, auditDid = head.AuditDid },
                        $"record {result.GetValue(sequence)} in a tree of {treeSize}: root {proof.Root}\n" + string.Join('\n', proof.Nodes))
                    : output.Error(CliOutput.UsageError, proof.Problem ?? "no proof");
            }, cancellation);
        });
        return command;
    }

    private static void Print(CliOutput output, SecurityEvent e)
    {
        if (output.Json)
        {
            output.Out.WriteLine(SecurityEventJson.Write(e));
            return;
        }

        var detail = e switch
        {
            DecisionEvent d => $"{d.Capability}{(d.Resource is null ? string.Empty : " " + d.Resource)}{(d.Count > 1 ? $" x{d.Count}" : string.Empty)}",
            AdministrativeEvent a => a.GrantId ?? a.Capability ?? string.Empty,
            SandboxEvent s => $"{s.Runtime} {s.Capability} {s.Resource}",
            AlertEvent alert => $"{alert.Action} after {alert.Count}",
            ToolEvent t => $"{t.Server}/{t.Tool}{(t.Resource is null ? string.Empty : $" {t.Capability} {t.Resource}")}{(t.RequestId is null ? string.Empty : $" ({t.RequestId})")}",
            _ => string.Empty,
        };
        output.Out.WriteLine($"{e.Time:yyyy-MM-dd HH:mm:ss.fff} {e.Type,-18} {e.AgentId ?? "-",-16} {detail} {e.Reason ?? string.Empty} {e.Message ?? string.Empty}".TrimEnd());
    }
}
