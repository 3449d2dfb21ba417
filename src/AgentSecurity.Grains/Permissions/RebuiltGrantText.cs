using System.Runtime.CompilerServices;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Encoding;

namespace AgentSecurity.Grains.Permissions;

/// <summary>
/// An active grant's signed text, kept as what the agent holds anyway (its <see cref="ActiveGrant"/> and id), a shared
/// <see cref="GrantTextTemplate"/> and the 64 bytes of the signature, and rebuilt when read: about 100 bytes an agent
/// where the compressed text took about 450. Made only for a text it rebuilds exactly (compared once, when made), so
/// whoever reads it (the state's writes, delegation, <c>GetActiveGrantAsync</c>) gets the very bytes that were signed
/// and stored; a text it would not rebuild exactly stays held as it is (<see cref="Agents.CompactText"/>).
/// </summary>
internal sealed class RebuiltGrantText
{
    private readonly GrantTextTemplate _template;
    private readonly ActiveGrant _grant;
    private readonly string _agentId;
    private readonly SignatureBytes _signature;

    private RebuiltGrantText(GrantTextTemplate template, ActiveGrant grant, string agentId, ReadOnlySpan<byte> signature)
    {
        _template = template;
        _grant = grant;
        _agentId = agentId;
        signature.CopyTo(_signature);
    }

    /// <summary>
    /// The rebuilt form of <paramref name="text"/>, the signed text of <paramref name="document"/> compiled as
    /// <paramref name="grant"/> for the agent <paramref name="agentId"/>; null when it would not give back exactly
    /// <paramref name="text"/>, or when no other agent has had its template yet (then the text is kept as it is).
    /// </summary>
    public static RebuiltGrantText? For(GrantDocument document, ActiveGrant grant, string agentId, string text)
    {
        var signature = document.Envelope.Signature;
        if (signature.Length != SignatureBytes.Length || !string.Equals(document.AgentId, agentId, StringComparison.Ordinal))
        {
            return null;
        }

        GrantTextTemplate template;
        try
        {
            template = GrantTextTemplate.Of(document.Envelope.Body);
        }
        catch (ArgumentException)
        {
            // A text UTF-8 cannot carry exactly (a lone surrogate): not held compactly either way; the state's own
            // write refuses it, as it always did.
            return null;
        }

        // Compared with the candidate (its literal as text: nothing compressed yet), and only then held: a template that
        // does not rebuild its grant takes no slot of the shared table. An equal held template rebuilds the same text.
        var rebuilt = new RebuiltGrantText(template, grant, agentId, signature);
        // Null too for the first agent with this template: it is held for sharing from the second on.
        return string.Equals(rebuilt.Text(), text, StringComparison.Ordinal) && SharedGrantTemplates.For(template) is { } shared
            ? new RebuiltGrantText(shared, grant, agentId, signature)
            : null;
    }

    /// <summary>The template this text shares with the agents whose grants differ from it only in their slots.</summary>
    public GrantTextTemplate Template => _template;

    /// <summary>The signed text; a new string on every read (a write, a delegation), never per check.</summary>
    public string Text() => _template.Fill(Value);

    private string Value(GrantTextSlot slot) => slot switch
    {
        GrantTextSlot.AgentId => _agentId,
        GrantTextSlot.GrantId => _grant.GrantId,
        GrantTextSlot.IssuedAt => DocumentTime.ToText(_grant.IssuedAt),
        GrantTextSlot.NotBefore => DocumentTime.ToText(_grant.NotBefore),
        GrantTextSlot.ExpiresAt => DocumentTime.ToText(_grant.ExpiresAt),
        GrantTextSlot.AgentDid => _grant.AgentDid ?? string.Empty,
        GrantTextSlot.ParentGrantId => _grant.ParentGrantId ?? string.Empty,
        _ => Base64Url.Encode(_signature),
    };

    /// <summary>An Ed25519 signature inline: 64 bytes in the object, not an array of its own.</summary>
    [InlineArray(Length)]
    private struct SignatureBytes
    {
        public const int Length = 64;

        private byte _first;
    }
}
