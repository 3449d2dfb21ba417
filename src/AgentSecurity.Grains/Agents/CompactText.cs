using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;

namespace AgentSecurity.Grains.Agents;

/// <summary>
/// A text held in memory in as few bytes as it exactly round-trips in: its UTF-8, Brotli-compressed when that is smaller
/// (signed documents: JSON, whose names and structure compress, around signatures and keys, which do not). For a text
/// one object holds for a long time and reads rarely: writing costs tens of microseconds, reading a few.
/// The encoding is strict: a text UTF-8 cannot carry exactly (a lone surrogate) throws on writing rather than coming back
/// changed, and bytes that do not read back whole throw on reading; neither is ever answered with another text.
/// </summary>
internal static class CompactText
{
    // Quality 5 of 11: within a few percent of the best size for texts of a few kilobytes, at a fortieth of its time.
    private const int Quality = 5;

    private const int Window = 16;

    private const byte Raw = 0;

    private const byte Brotli = 1;

    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The bytes that hold <paramref name="text"/>: a marker, then its UTF-8 as it is, or its length and the compressed UTF-8.</summary>
    public static byte[] Write(string text)
    {
        var utf8 = StrictUtf8.GetBytes(text);
        var rented = ArrayPool<byte>.Shared.Rent(BrotliEncoder.GetMaxCompressedLength(utf8.Length));
        try
        {
            if (BrotliEncoder.TryCompress(utf8, rented, out var written, Quality, Window) && written + 5 < utf8.Length + 1)
            {
                var compact = new byte[written + 5];
                compact[0] = Brotli;
                BinaryPrimitives.WriteInt32LittleEndian(compact.AsSpan(1), utf8.Length);
                rented.AsSpan(0, written).CopyTo(compact.AsSpan(5));
                return compact;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        var raw = new byte[utf8.Length + 1];
        raw[0] = Raw;
        utf8.CopyTo(raw.AsSpan(1));
        return raw;
    }

    /// <summary>The text <see cref="Write"/> made <paramref name="compact"/> of.</summary>
    public static string Read(byte[] compact)
    {
        if (compact[0] == Raw)
        {
            return StrictUtf8.GetString(compact, 1, compact.Length - 1);
        }

        var length = compact[0] == Brotli ? BinaryPrimitives.ReadInt32LittleEndian(compact.AsSpan(1)) : -1;
        var utf8 = length >= 0 ? new byte[length] : [];
        if (length < 0 || !BrotliDecoder.TryDecompress(compact.AsSpan(5), utf8, out var written) || written != length)
        {
            throw new InvalidDataException("a compact text does not read back whole");
        }

        return StrictUtf8.GetString(utf8);
    }
}
