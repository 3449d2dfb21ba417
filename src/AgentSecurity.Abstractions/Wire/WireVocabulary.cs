using System.Collections.Frozen;
using AgentSecurity.Grants;

namespace AgentSecurity.Abstractions.Wire;

/// <summary>
/// The strings that every check sends or answers (its capability, the decision's reason and, for an allowed check, its message), each sent on Orleans' wire
/// as a one-byte code instead of its text: no text to encode on one side nor string to allocate on the other, and a
/// smaller message through TLS, for each of the tens of thousands of checks a second a silo answers. A string not in
/// the vocabulary travels as its text, so a vocabulary that lacks a new code still says everything.
/// </summary>
/// <remarks>
/// Append only: a code's meaning is fixed for ever, because clients and silos of other versions read it (a code a
/// reader does not know reads as no text at all: an unknown capability, never a different one). Code 0 means "the
/// text follows". <c>WireVocabularyTests</c> pins every code.
/// </remarks>
public sealed class WireVocabulary
{
    /// <summary>The capabilities a check names (<c>CheckKinds</c>).</summary>
    public static WireVocabulary Capabilities { get; } = new(
    [
        "fileSystem:read", "fileSystem:write", "fileSystem:delete", "memory:read", "memory:write", "memory:delete",
        "network:outbound", "network:inbound", "subprocess", "vectorDb", "llm", "tool:call",
    ]);

    /// <summary>The reasons of decisions (<see cref="ReasonCodes"/>).</summary>
    public static WireVocabulary Reasons { get; } = new(
    [
        ReasonCodes.Allowed, ReasonCodes.NoGrant, ReasonCodes.CapabilityNotGranted, ReasonCodes.OutOfScope,
        ReasonCodes.NotYetValid, ReasonCodes.Expired, ReasonCodes.Revoked, ReasonCodes.QuotaExceeded,
        ReasonCodes.RateLimited, ReasonCodes.Quarantined, ReasonCodes.Suspended, ReasonCodes.UnknownCapability,
        ReasonCodes.IsolationForbids, ReasonCodes.Unavailable, ReasonCodes.ApprovalRequired, ReasonCodes.ToolChanged,
        ReasonCodes.InvalidRequest, ReasonCodes.Forbidden, ReasonCodes.Unauthenticated,
    ]);

    /// <summary>The messages most answers carry: the allowed check's.</summary>
    public static WireVocabulary Messages { get; } = new([Decision.AllowedByTheGrant]);

    private readonly string[] _texts;
    private readonly FrozenDictionary<string, byte> _codes;

    private WireVocabulary(string[] texts)
    {
        _texts = texts;
        _codes = texts.Select((text, i) => KeyValuePair.Create(text, checked((byte)(i + 1)))).ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Every text, in code order (code 1 first).</summary>
    public IReadOnlyList<string> Texts => _texts;

    /// <summary>The text's code, or 0 when the text is not in the vocabulary (or is null) and must be sent itself.</summary>
    public byte CodeOf(string? text) => text is not null && _codes.TryGetValue(text, out var code) ? code : (byte)0;

    /// <summary>What a serialized member holds for a text: its code and no text, or 0 and the text itself.</summary>
    public (byte Code, string? Text) Encode(string? text) => CodeOf(text) is var code and not 0 ? (code, null) : ((byte)0, text);

    /// <summary>The text of a code; null for 0 and for a code this version does not know.</summary>
    public string? TextOf(byte code) => code >= 1 && code <= _texts.Length ? _texts[code - 1] : null;
}
