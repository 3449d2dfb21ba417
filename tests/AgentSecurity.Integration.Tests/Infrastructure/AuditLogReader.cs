using AgentSecurity.Abstractions.Audit;

namespace AgentSecurity.Integration.Tests.Infrastructure;

/// <summary>Reads a tenant's whole audit log through its audit grain, page by page.</summary>
internal static class AuditLogReader
{
    public static async Task<List<SecurityEvent>> ReadAllAsync(IAuditStreamGrain audit)
    {
        var events = new List<SecurityEvent>();
        for (long next = 1; ;)
        {
            var page = await audit.ReadAsync(next, 1000);
            events.AddRange(page.Select(r => SecurityEventJson.Read(r.EventJson)));
            if (page.Count < 1000)
            {
                return events;
            }

            next = page[^1].Sequence + 1;
        }
    }
}
