using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains;
using AgentSecurity.Grains.Boundary;
using AgentSecurity.Grains.Execution;
using AgentSecurity.Grants;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentSecurity.Hosting.Http.Console;

/// <summary>
/// Reads the security console's overview from the kernel's grains, as the operator's reads (the console's endpoints are
/// behind the operator guard): each tenant's issuer (does it exist), audit log (its tail, for denials and quarantines;
/// its last verification), agents (whether those quarantined in the tail still are, and why), and shared budget; and
/// this silo's running executions. A tenant that cannot be read is shown as such, with nothing made up for it.
/// </summary>
internal sealed class ConsoleOverviewReader(
    IGrainFactory grains,
    ExecutionServices executions,
    ILocalSiloDetails silo,
    [FromKeyedServices(KernelClock.ServiceKey)] TimeProvider time,
    ILogger<ConsoleOverviewReader> logger)
{
    /// <summary>The minutes of denials shown.</summary>
    public const int WindowMinutes = 10;

    /// <summary>The most records read from a log's tail per overview: one read of the audit grain (its own bound).</summary>
    public const int TailRecords = 1000;

    /// <summary>The most agents asked for their status per tenant and overview.</summary>
    public const int MaxAgentsAsked = 64;

    /// <summary>The most tenants one overview reads.</summary>
    public const int MaxTenants = 16;

    private static readonly HashSet<string> DenialTypes = new(StringComparer.Ordinal)
    {
        SecurityEventTypes.CheckDenied, SecurityEventTypes.QuotaExceeded, SecurityEventTypes.ToolDenied,
    };

    public async Task<ConsoleOverview> ReadAsync(IReadOnlyList<string> tenants)
    {
        var now = time.GetUtcNow();
        ConsoleTenant[] read;
        using (OperatorReads.Enter())
        {
            read = await Task.WhenAll(tenants.Select(tenant => ReadTenantAsync(tenant, now)));
        }

        return new ConsoleOverview(now, silo.Name, WindowMinutes, read);
    }

    private async Task<ConsoleTenant> ReadTenantAsync(string tenant, DateTimeOffset now)
    {
        var running = executions.RunningFor(tenant);
        try
        {
            if (await grains.GetGrain<IGrantIssuerGrain>(tenant).GetTenantAsync() is null)
            {
                return new ConsoleTenant(tenant, false, 0, [], 0, [], [], running, null, null);
            }

            var log = grains.GetGrain<IAuditStreamGrain>(tenant);
            var head = await log.GetHeadAsync();
            var events = head.LastSequence == 0 ? [] : Events(tenant, await log.ReadAsync(Math.Max(1, head.LastSequence - TailRecords + 1), TailRecords));
            var quarantined = await QuarantinedAsync(tenant, events);
            var budget = await grains.GetGrain<ITenantQuotaGrain>(tenant).GetBudgetUseAsync();
            var verified = await log.GetLastVerificationAsync();
            return new ConsoleTenant(
                tenant, true, head.LastSequence, Denials(events, now), events.Count, quarantined,
                [.. budget.Select(b => new ConsoleBudget(b.Limit, b.Value, b.Used, b.Period.TotalSeconds))],
                running,
                verified is null ? null : new ConsoleVerification(
                    verified.Verification.Valid, verified.Verification.Records, verified.Verification.Checkpoints,
                    verified.Verification.FirstBadSequence, verified.Verification.Problem, verified.At),
                null);
        }
#pragma warning disable CA1031 // Whatever failed, the tenant is shown as unreadable: the console never fills in what it could not read.
        catch (Exception e)
#pragma warning restore CA1031
        {
            ConsoleLog.TenantUnreadable(logger, e, tenant);
            return new ConsoleTenant(tenant, true, 0, [], 0, [], [], running, null, $"{ReasonCodes.Unavailable}: the tenant's grains could not be read now ({e.GetType().Name})");
        }
    }

    private List<SecurityEvent> Events(string tenant, IReadOnlyList<AuditRecordInfo> records)
    {
        var events = new List<SecurityEvent>(records.Count);
        foreach (var record in records)
        {
            try
            {
                events.Add(SecurityEventJson.Read(record.EventJson));
            }
            catch (FormatException)
            {
                // `audit verify` is what judges a log; the console shows what it can read of it.
                ConsoleLog.RecordUnreadable(logger, tenant, record.Sequence);
            }
        }

        return events;
    }

    /// <summary>Denials of the last <see cref="WindowMinutes"/> by capability (a tool call refused by its rules counts as <c>tool:call</c>).</summary>
    private static List<ConsoleDenials> Denials(List<SecurityEvent> events, DateTimeOffset now)
    {
        var byCapability = new SortedDictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            var age = now - e.Time;
            if (!DenialTypes.Contains(e.Type) || age < TimeSpan.Zero - TimeSpan.FromMinutes(1) || age >= TimeSpan.FromMinutes(WindowMinutes))
            {
                continue;
            }

            var (capability, count) = e switch
            {
                DecisionEvent d => (d.Capability, d.Count),
                ToolEvent t => (t.Capability ?? Capabilities.ToolCall, 1L),
                _ => (null, 0L),
            };
            if (capability is null)
            {
                continue;
            }

            if (!byCapability.TryGetValue(capability, out var minutes))
            {
                byCapability[capability] = minutes = new long[WindowMinutes];
            }

            // Oldest minute first; an event stamped slightly ahead of this silo's clock counts in the current minute.
            minutes[WindowMinutes - 1 - Math.Max(0, (int)age.TotalMinutes)] += count;
        }

        return [.. byCapability.Select(p => new ConsoleDenials(p.Key, p.Value.Sum(), p.Value))];
    }

    /// <summary>Agents the tail shows quarantined, asked whether they still are and why (the agent grain owns that fact).</summary>
    private async Task<List<ConsoleQuarantine>> QuarantinedAsync(string tenant, List<SecurityEvent> events)
    {
        var agents = events
            .Where(e => e.Type == SecurityEventTypes.AgentQuarantined && e.AgentId is not null)
            .Select(e => e.AgentId!)
            .Reverse()
            .Distinct(StringComparer.Ordinal)
            .Take(MaxAgentsAsked)
            .ToList();
        var statuses = await Task.WhenAll(agents.Select(agent => grains.GetGrain<IAgentGrain>(AgentKey.Of(tenant, agent)).GetStatusAsync()));
        return [.. statuses
            .Zip(agents)
            .Where(p => p.First.State == AgentState.Quarantined)
            .Select(p => new ConsoleQuarantine(p.Second, p.First.QuarantineReason))
            .OrderBy(q => q.Agent, StringComparer.Ordinal)];
    }
}
