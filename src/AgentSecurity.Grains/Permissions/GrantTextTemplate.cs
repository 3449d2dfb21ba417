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
    // The literal pieces, concatenated and held compressed (CompactText): a template no other agent shares is its one
    // agent's alone, and should not cost it the 1.5 KB of the pieces as strings. _lengths[i] is the length of
    // the piece before slot i, and the last one's of the piece after the last slot.
    private readonly byte[] _literal;
    private readonly int[] _lengths;
    private readonly GrantTextSlot[] _slots;
    private readonly int _hash;

    private GrantTextTemplate(byte[] literal, int[] lengths, GrantTextSlot[] slots)
    {
        _literal = literal;
        _lengths = lengths;
        _slots = slots;
        var hash = new HashCode();
        hash.AddBytes(literal);
        foreach (var length in lengths)
        {
            hash.Add(length);
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
        var lengths = new List<int>();
        var slots = new List<GrantTextSlot>();
        var literal = new StringBuilder("{");
        var start = 0;
        var first = true;
        foreach (var (name, value) in body.Members.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            if (!first)
            {
                literal.Append(',');
            }

            first = false;
            JsonCanonicalizer.WriteString(literal, name);
            literal.Append(':');
            if (value is JString && GrantTextSlots.TryParse(name, out var slot))
            {
                lengths.Add(literal.Length - start);
                start = literal.Length;
                slots.Add(slot);
            }
            else
            {
                literal.Append(JsonCanonicalizer.CanonicalizeToString(value));
            }
        }

        literal.Append('}');
        lengths.Add(literal.Length - start);
        return new GrantTextTemplate(Agents.CompactText.Write(literal.ToString()), [.. lengths], [.. slots]);
    }

    /// <summary>The text with each slot's value (as a JSON string) in its place.</summary>
    public string Fill(Func<GrantTextSlot, string> value)
    {
        var literal = Agents.CompactText.Read(_literal);
        var text = new StringBuilder(literal.Length + (_slots.Length * 32));
        var at = 0;
        for (var i = 0; i < _slots.Length; i++)
        {
            text.Append(literal, at, _lengths[i]);
            at += _lengths[i];
            JsonCanonicalizer.WriteString(text, value(_slots[i]));
        }

        return text.Append(literal, at, _lengths[^1]).ToString();
    }

    // Equal compressed bytes are equal pieces (reading them back is a function); equal pieces compressed by this one
    // encoder give equal bytes, and where they would not, two agents merely hold a template each.
    public bool Equals(GrantTextTemplate? other) =>
        other is not null && _hash == other._hash && _slots.AsSpan().SequenceEqual(other._slots) &&
        _lengths.AsSpan().SequenceEqual(other._lengths) && _literal.AsSpan().SequenceEqual(other._literal);

    public override bool Equals(object? obj) => Equals(obj as GrantTextTemplate);

    public override int GetHashCode() => _hash;
}
