namespace AgentSecurity.Grants.Tools;

/// <summary>
/// What a grant v2 says about tools: the patterns it grants (<c>capabilities.tools</c>), those that need a person's
/// approval (<c>toolRules.approve</c>) and the pinned definitions (<c>toolRules.pins</c>, exact tool → <c>sha256:…</c>).
/// A v1 grant, or a v2 grant without tools, has <see cref="None"/>: no tool may be called.
/// </summary>
public sealed record ToolTerms(IReadOnlyList<string> Patterns, IReadOnlyList<string> Approve, IReadOnlyDictionary<string, string> Pins)
{
    public static ToolTerms None { get; } = new([], [], new Dictionary<string, string>(StringComparer.Ordinal));

    /// <summary>Whether the terms grant any tool at all.</summary>
    public bool GrantsAny => Patterns.Count > 0;

    /// <summary>Whether the terms carry <c>toolRules</c>.</summary>
    public bool HasRules => Approve.Count > 0 || Pins.Count > 0;

    /// <summary>Records compare lists by reference; terms compare by what they say.</summary>
    public bool Equals(ToolTerms? other) =>
        other is not null
        && Patterns.SequenceEqual(other.Patterns, StringComparer.Ordinal)
        && Approve.SequenceEqual(other.Approve, StringComparer.Ordinal)
        && Pins.Count == other.Pins.Count
        && Pins.All(p => other.Pins.TryGetValue(p.Key, out var hash) && string.Equals(hash, p.Value, StringComparison.Ordinal));

    public override int GetHashCode() => HashCode.Combine(Patterns.Count, Approve.Count, Pins.Count);
}
