namespace AgentSecurity.Grains.Permissions;

/// <summary>
/// A SHA-256 hash as its 32 bytes, inline in the object that holds it, for what keeps one per active agent: the hex text
/// is a string of 64 characters (150 bytes) on top. Compares with and prints as <see cref="Grants.Documents.SignedDocument.ContentHash"/>
/// does (lowercase hex); a text that is not such a hash is kept as it is, so it still compares and prints exactly.
/// </summary>
internal readonly struct Sha256Hash
{
    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    private readonly ulong _a;
    private readonly ulong _b;
    private readonly ulong _c;
    private readonly ulong _d;

    // Only for a text that is not 64 lowercase hex digits (never from SignedDocument): kept, not reinterpreted.
    private readonly string? _other;

    private Sha256Hash(ReadOnlySpan<byte> bytes)
    {
        _a = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _b = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _c = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]);
        _d = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]);
    }

    private Sha256Hash(string other) => _other = other;

    public static Sha256Hash Parse(string hex)
    {
        Span<byte> bytes = stackalloc byte[32];
        return IsLowerHex(hex) && Convert.FromHexString(hex, bytes, out _, out var written) == System.Buffers.OperationStatus.Done && written == 32
            ? new Sha256Hash(bytes)
            : new Sha256Hash(hex);
    }

    /// <summary>Whether <paramref name="hex"/> is this hash, exactly as text (a hash in capitals is another text).</summary>
    public bool Is(string? hex) => hex is not null && (_other is { } other ? string.Equals(other, hex, StringComparison.Ordinal) : Equals(Parse(hex)));

    public override string ToString()
    {
        if (_other is { } other)
        {
            return other;
        }

        Span<byte> bytes = stackalloc byte[32];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes, _a);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], _b);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes[16..], _c);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes[24..], _d);
        return Convert.ToHexStringLower(bytes);
    }

    private bool Equals(Sha256Hash other) => _other is null && other._other is null && _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    private static bool IsLowerHex(string text) => text.Length == 64 && text.AsSpan().IndexOfAnyExcept(LowerHex) < 0;
}
