namespace AgentSecurity.Abstractions.Audit;

/// <summary>
/// Keeps every text of an event within <see cref="MaxFieldLength"/> characters. Events carry what callers sent (a
/// denied request's resource can be any length), and an event too large for a queue message or a table property
/// would make its denial unrecordable, or stall the log behind it; a clipped field says how long it was.
/// </summary>
public static class SecurityEventBounds
{
    public const int MaxFieldLength = 1024;

    public static SecurityEvent Clamp(SecurityEvent e)
    {
        var clamped = e switch
        {
            DecisionEvent d => d with { Capability = Clip(d.Capability)!, Resource = Clip(d.Resource), GrantId = Clip(d.GrantId) },
            AdministrativeEvent a => a with { Capability = Clip(a.Capability), Resource = Clip(a.Resource), GrantId = Clip(a.GrantId), SignerDid = Clip(a.SignerDid) },
            SandboxEvent s => s with { Capability = Clip(s.Capability), Resource = Clip(s.Resource), Runtime = Clip(s.Runtime) },
            AlertEvent alert => alert with { Action = Clip(alert.Action)! },
            ToolEvent t => t with { Server = Clip(t.Server)!, Tool = Clip(t.Tool)!, GrantId = Clip(t.GrantId), DefinitionHash = Clip(t.DefinitionHash), Capability = Clip(t.Capability), Resource = Clip(t.Resource), RequestId = Clip(t.RequestId) },
            _ => e,
        };
        return clamped with
        {
            Id = Clip(e.Id)!,
            Type = Clip(e.Type)!,
            TenantId = Clip(e.TenantId)!,
            AgentId = Clip(e.AgentId),
            Silo = Clip(e.Silo),
            TraceId = Clip(e.TraceId),
            SpanId = Clip(e.SpanId),
            Message = Clip(e.Message),
            Reason = Clip(e.Reason),
        };
    }

    private static string? Clip(string? text)
    {
        if (text is null || text.Length <= MaxFieldLength)
        {
            return text;
        }

        var keep = MaxFieldLength - 40;
        keep -= char.IsHighSurrogate(text[keep - 1]) ? 1 : 0; // never half a character
        return string.Concat(text.AsSpan(0, keep), $"...[{text.Length} characters, clipped]");
    }
}
