using System.Text;

namespace AgentSecurity.Abstractions.Audit;

/// <summary>
/// Keeps every text of an event within <see cref="MaxFieldLength"/> characters and <see cref="MaxFieldBytes"/> bytes of
/// UTF-8. Events carry what callers sent (a denied request's resource can be any length), and an event too large for a
/// queue message or a table property would make its denial unrecordable, or stall the log behind it; a clipped field
/// says how long it was. The byte bound is what keeps the largest event (a tool event: sixteen texts) within one queue
/// message: at 1,024 characters of three UTF-8 bytes each it came to 52 KB, past what a message holds.
/// </summary>
public static class SecurityEventBounds
{
    public const int MaxFieldLength = 1024;

    public const int MaxFieldBytes = 1024;

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
        if (text is null || (text.Length <= MaxFieldLength && (text.Length * 3 <= MaxFieldBytes || Encoding.UTF8.GetByteCount(text) <= MaxFieldBytes)))
        {
            return text;
        }

        // Whole characters only (a surrogate pair stays whole or goes), within both bounds once the ASCII suffix is added.
        var suffix = $"...[{text.Length} characters, clipped]";
        var (chars, bytes) = (0, 0);
        while (chars < text.Length)
        {
            // An unpaired surrogate counts as U+FFFD, three bytes, which is what UTF-8 encoding writes for it.
            Rune.DecodeFromUtf16(text.AsSpan(chars), out var rune, out var consumed);
            if (chars + consumed > MaxFieldLength - suffix.Length || bytes + rune.Utf8SequenceLength > MaxFieldBytes - suffix.Length)
            {
                break;
            }

            chars += consumed;
            bytes += rune.Utf8SequenceLength;
        }

        return string.Concat(text.AsSpan(0, chars), suffix);
    }
}
