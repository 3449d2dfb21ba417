using System.Numerics;

namespace AgentSecurity.Grants.Encoding;

/// <summary>Base58 with the Bitcoin alphabet, as multibase <c>z</c> uses it.</summary>
public static class Base58Btc
{
    private const string Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    private static readonly sbyte[] DigitValues = BuildDigitValues();

    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var leadingZeros = 0;
        while (leadingZeros < bytes.Length && bytes[leadingZeros] == 0)
        {
            leadingZeros++;
        }

        var value = new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        var digits = new List<char>();
        while (value > 0)
        {
            value = BigInteger.DivRem(value, 58, out var remainder);
            digits.Add(Alphabet[(int)remainder]);
        }

        digits.AddRange(Enumerable.Repeat('1', leadingZeros));
        digits.Reverse();
        return new string(digits.ToArray());
    }

    /// <summary>Decodes strictly: any character outside the alphabet fails.</summary>
    public static bool TryDecode(string text, out byte[] bytes)
    {
        bytes = [];
        var leadingOnes = 0;
        while (leadingOnes < text.Length && text[leadingOnes] == '1')
        {
            leadingOnes++;
        }

        var value = BigInteger.Zero;
        foreach (var c in text)
        {
            if (c >= DigitValues.Length || DigitValues[c] < 0)
            {
                return false;
            }

            value = (value * 58) + DigitValues[c];
        }

        var body = value.IsZero ? [] : value.ToByteArray(isUnsigned: true, isBigEndian: true);
        bytes = new byte[leadingOnes + body.Length];
        body.CopyTo(bytes, leadingOnes);
        return true;
    }

    private static sbyte[] BuildDigitValues()
    {
        var values = new sbyte[128];
        Array.Fill(values, (sbyte)-1);
        for (var i = 0; i < Alphabet.Length; i++)
        {
            values[Alphabet[i]] = (sbyte)i;
        }

        return values;
    }
}
