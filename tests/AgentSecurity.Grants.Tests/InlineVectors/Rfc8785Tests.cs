using System.Globalization;
using AgentSecurity.Grants.Json;

namespace AgentSecurity.Grants.Tests.InlineVectors;

/// <summary>
/// RFC 8785's own examples, written out here so that canonicalization is checked against the standard even where the
/// shared vectors folder is absent: the number serializations of Appendix B, the property order of §3.2.3, and the
/// sample of §3.2.2 with its UTF-8 bytes from §3.2.4. Inputs go through <see cref="StrictJsonParser"/>, as documents do.
/// </summary>
public sealed class Rfc8785Tests
{
    /// <summary>Appendix B: an IEEE 754 double by its bits, and the only text JCS may give it (NaN and Infinity have none).</summary>
    public static TheoryData<string, string> AppendixB => new()
    {
        { "0000000000000000", "0" },
        { "8000000000000000", "0" },
        { "0000000000000001", "5e-324" },
        { "8000000000000001", "-5e-324" },
        { "7fefffffffffffff", "1.7976931348623157e+308" },
        { "ffefffffffffffff", "-1.7976931348623157e+308" },
        { "4340000000000000", "9007199254740992" },
        { "c340000000000000", "-9007199254740992" },
        { "4430000000000000", "295147905179352830000" },
        { "44b52d02c7e14af5", "9.999999999999997e+22" },
        { "44b52d02c7e14af6", "1e+23" },
        { "44b52d02c7e14af7", "1.0000000000000001e+23" },
        { "444b1ae4d6e2ef4e", "999999999999999700000" },
        { "444b1ae4d6e2ef4f", "999999999999999900000" },
        { "444b1ae4d6e2ef50", "1e+21" },
        { "3eb0c6f7a0b5ed8c", "9.999999999999997e-7" },
        { "3eb0c6f7a0b5ed8d", "0.000001" },
        { "41b3de4355555553", "333333333.3333332" },
        { "41b3de4355555554", "333333333.33333325" },
        { "41b3de4355555555", "333333333.3333333" },
        { "41b3de4355555556", "333333333.3333334" },
        { "41b3de4355555557", "333333333.33333343" },
        { "becbf647612f3696", "-0.0000033333333333333333" },
        { "43143ff3c1cb0959", "1424953923781206.2" },
    };

    [Theory]
    [MemberData(nameof(AppendixB))]
    public void Canonicalize_AppendixBNumber_IsTheRfcText(string ieee754, string expected)
    {
        // The input spells the double with 17 significant digits in exponent form (which identifies any double
        // exactly) and so differs from the expected text in nearly every row: the serializer has to do the work.
        var value = BitConverter.UInt64BitsToDouble(ulong.Parse(ieee754, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
        var input = value.ToString("E16", CultureInfo.InvariantCulture);
        Assert.Equal(BitConverter.DoubleToUInt64Bits(value), BitConverter.DoubleToUInt64Bits(double.Parse(input, CultureInfo.InvariantCulture)));

        var parsed = StrictJsonParser.Parse(input);

        Assert.True(parsed.Succeeded, parsed.Failure?.ToString());
        Assert.Equal(expected, JsonCanonicalizer.CanonicalizeToString(parsed.Value));
    }

    [Theory]
    [InlineData("7fffffffffffffff")] // NaN
    [InlineData("7ff0000000000000")] // Infinity
    public void Format_AppendixBValueWithoutJsonText_IsAnError(string ieee754)
    {
        // JSON cannot spell these, so only a program can hand them over; the serializer must refuse, not invent text.
        var value = BitConverter.UInt64BitsToDouble(ulong.Parse(ieee754, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));

        Assert.Throws<ArgumentOutOfRangeException>(() => EcmaScriptNumber.Format(value));
    }

    [Fact]
    public void Canonicalize_Section323Sample_SortsPropertiesByUtf16CodeUnits()
    {
        // U+1F600 is the surrogate pair D83D DE00, which sorts before U+FB33 by code unit though not by code point.
        const string input = """
            {
              "\u20ac": "Euro Sign",
              "\r": "Carriage Return",
              "\ufb33": "Hebrew Letter Dalet With Dagesh",
              "1": "One",
              "\ud83d\ude00": "Emoji: Grinning Face",
              "\u0080": "Control",
              "\u00f6": "Latin Small Letter O With Diaeresis"
            }
            """;
        var parsed = StrictJsonParser.Parse(input);
        Assert.True(parsed.Succeeded, parsed.Failure?.ToString());

        var canonical = StrictJsonParser.Parse(JsonCanonicalizer.CanonicalizeToString(parsed.Value)).Value;

        // The order the RFC lists, by property value.
        Assert.Equal(
            ["Carriage Return", "One", "Control", "Latin Small Letter O With Diaeresis", "Euro Sign", "Emoji: Grinning Face", "Hebrew Letter Dalet With Dagesh"],
            ((JObject)canonical).Members.Select(m => ((JString)m.Value).Value));
    }

    [Fact]
    public void Canonicalize_Section322Sample_GivesTheUtf8BytesOfSection324()
    {
        const string input = """
            {
              "numbers": [333333333.33333329, 1E30, 4.50,
                          2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """;
        const string expectedHex = """
            7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72
            75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a
            5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31
            65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37
            5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30
            30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d
            """;
        var parsed = StrictJsonParser.Parse(input);
        Assert.True(parsed.Succeeded, parsed.Failure?.ToString());

        var canonical = JsonCanonicalizer.Canonicalize(parsed.Value);

        Assert.Equal(string.Concat(expectedHex.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries)), Convert.ToHexStringLower(canonical));
        Assert.Equal(
            """{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}""",
            JsonCanonicalizer.CanonicalizeToString(parsed.Value));
    }
}
