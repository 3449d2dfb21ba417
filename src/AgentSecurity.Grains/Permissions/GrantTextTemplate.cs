using System.Text;
using AgentSecurity.Grants.Json;

namespace AgentSecurity.Grains.Permissions;

/// <summary>
/// The canonical text of a grant with the members that differ from agent to agent left out: ids, times, DIDs and the
/// signature. What is left (type, tenant, signer, capabilities, scopes, limits, isolation, tool rules) is the same for
/// every agent given the same grant but for those, so one template serves them all (<see cref="SharedGrantTemplates"/>)
/// and an agent keeps only what fills its slots (<see cref="RebuiltGrantText"/>). Canonical text (RFC 8785) sorts members
/// by name and has no whitespace, so the text is the template's literal pieces with the slots' values between them.
/// </summary>
internal sealed class GrantTextTemplate : IEquatable<GrantTextTemplate>
{
    // The literal text before each slot, and after the last: _pieces.Length == _slots.Length + 1.
    private readonly string[] _pieces;
    private readonly GrantTextSlot[] _slots;
    private readonly int _hash;

    private GrantTextTemplate(string[] pieces, GrantTextSlot[] slots)
    {
        _pieces = pieces;
        _slots = slots;
        var hash = new HashCode();
        foreach (var piece in pieces)
        {
            hash.Add(piece, StringComparer.Ordinal);
        }

        foreach (var slot in slots)
        {
            hash.Add(slot);
        }

        _hash = hash.ToHashCode();
    }

    /// <summary>The slots, in the order their members come in the canonical text.</summary>
    public IReadOnlyList<GrantTextSlot> Slots => _slots;

    /// <summary>The template of a grant's body (signature included). A slot member whose value is not a string stays literal.</summary>
    public static GrantTextTemplate Of(JObject body)
    {
        var pieces = new List<string>();
        var slots = new List<GrantTextSlot>();
        var piece = new StringBuilder("{");
        var first = true;
        foreach (var (name, value) in body.Members.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            if (!first)
            {
                piece.Append(',');
            }

            first = false;
            JsonCanonicalizer.WriteString(piece, name);
            piece.Append(':');
            if (value is JString && GrantTextSlots.TryParse(name, out var slot))
            {
                pieces.Add(piece.ToString());
                slots.Add(slot);
                piece.Clear();
            }
            else
            {
                piece.Append(JsonCanonicalizer.CanonicalizeToString(value));
            }
        }

        pieces.Add(piece.Append('}').ToString());
        return new GrantTextTemplate([.. pieces], [.. slots]);
    }

    /// <summary>The text with each slot's value (as a JSON string) in its place.</summary>
    public string Fill(Func<GrantTextSlot, string> value)
    {
        var text = new StringBuilder(_pieces.Sum(p => p.Length) + (_slots.Length * 32));
        for (var i = 0; i < _slots.Length; i++)
        {
            text.Append(_pieces[i]);
            JsonCanonicalizer.WriteString(text, value(_slots[i]));
        }

        return text.Append(_pieces[^1]).ToString();
    }

    public bool Equals(GrantTextTemplate? other) =>
        other is not null && _hash == other._hash && _slots.AsSpan().SequenceEqual(other._slots) && _pieces.SequenceEqual(other._pieces, StringComparer.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as GrantTextTemplate);

    public override int GetHashCode() => _hash;
}
