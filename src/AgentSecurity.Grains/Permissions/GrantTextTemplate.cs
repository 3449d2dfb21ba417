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
    // The literal pieces, concatenated: as text while the template is only a candidate (just made from a grant, compared
    // and looked up without compressing it), compressed (CompactText) once it is held, since a template no other agent
    // shares is its one agent's alone and should not cost it the 1.5 KB of the pieces as a string. Exactly one is set.
    // _lengths[i] is the length of the piece before slot i, and the last one's of the piece after the last slot.
    private readonly string? _text;
    private readonly byte[]? _compressed;
    private readonly int[] _lengths;
    private readonly GrantTextSlot[] _slots;
    private readonly int _hash;

    private GrantTextTemplate(string? text, byte[]? compressed, int[] lengths, GrantTextSlot[] slots, int hash)
    {
        _text = text;
        _compressed = compressed;
        _lengths = lengths;
        _slots = slots;
        _hash = hash;
    }

    /// <summary>Whether the literal is held compressed (a template made to be held), not as text (a candidate).</summary>
    public bool IsCompressed => _compressed is not null;

    /// <summary>The template of a grant's body (signature included), uncompressed. A slot member whose value is not a string stays literal.</summary>
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
        var text = literal.ToString();
        var hash = new HashCode();
        hash.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(text.AsSpan()));
        foreach (var length in lengths)
        {
            hash.Add(length);
        }

        foreach (var each in slots)
        {
            hash.Add(each);
        }

        return new GrantTextTemplate(text, null, [.. lengths], [.. slots], hash.ToHashCode());
    }

    /// <summary>This template with its literal compressed, to be held (by <see cref="SharedGrantTemplates"/>); itself when it is.</summary>
    public GrantTextTemplate Compressed() =>
        _compressed is not null ? this : new GrantTextTemplate(null, Agents.CompactText.Write(_text!), _lengths, _slots, _hash);

    /// <summary>The text with each slot's value (as a JSON string) in its place.</summary>
    public string Fill(Func<GrantTextSlot, string> value)
    {
        var literal = Literal();
        // Slot values: ids and times are short, a DID about 56 characters, the signature 86; 64 each covers most
        // texts in one allocation without sizing every grant for its longest member.
        var text = new StringBuilder(literal.Length + (_slots.Length * 64));
        var at = 0;
        for (var i = 0; i < _slots.Length; i++)
        {
            text.Append(literal, at, _lengths[i]);
            at += _lengths[i];
            JsonCanonicalizer.WriteString(text, value(_slots[i]));
        }

        return text.Append(literal, at, _lengths[^1]).ToString();
    }

    // Equal literals are equal templates whichever form holds them. Two compressed ones compare their bytes (reading them
    // back is a function; where one encoder gave different bytes for equal pieces, two agents merely hold a template
    // each); a candidate compares as text, so a lookup compresses nothing and decompresses only on a hash match.
    public bool Equals(GrantTextTemplate? other) =>
        other is not null && _hash == other._hash && _slots.AsSpan().SequenceEqual(other._slots) &&
        _lengths.AsSpan().SequenceEqual(other._lengths) &&
        (_compressed is not null && other._compressed is not null
            ? _compressed.AsSpan().SequenceEqual(other._compressed)
            : string.Equals(Literal(), other.Literal(), StringComparison.Ordinal));

    public override bool Equals(object? obj) => Equals(obj as GrantTextTemplate);

    public override int GetHashCode() => _hash;

    private string Literal() => _text ?? Agents.CompactText.Read(_compressed!);
}
