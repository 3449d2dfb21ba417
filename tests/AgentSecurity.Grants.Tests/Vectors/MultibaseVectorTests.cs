using AgentSecurity.Grants.Encoding;
using AgentSecurity.Testing;

namespace AgentSecurity.Grants.Tests.Vectors;

/// <summary>The multibase suite's base58btc rows, including leading zero bytes.</summary>
public sealed class MultibaseVectorTests
{
    public static TheoryData<string> Files => ConformanceVectors.Cases(() =>
        Directory.GetFiles(RepositoryPaths.Vector("multibase"), "*.csv")
            .Where(f => File.ReadLines(f).Any(l => l.StartsWith("base58btc,", StringComparison.Ordinal)))
            .Select(Path.GetFileName).OfType<string>().Order());

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void Base58Btc_VectorRow_EncodesAndDecodes(string file)
    {
        ConformanceVectors.SkipIfMissing(file);
        var rows = File.ReadLines(RepositoryPaths.Vector("multibase", file))
            .Select(l => l.Split(',', 2))
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim().Trim('"'));
        var bytes = DecodeEscapes(rows["encoding"]);
        var expected = rows["base58btc"];
        Assert.StartsWith("z", expected, StringComparison.Ordinal);

        Assert.Equal(expected[1..], Base58Btc.Encode(bytes));
        Assert.True(Base58Btc.TryDecode(expected[1..], out var decoded));
        Assert.Equal(bytes, decoded);
    }

    // The CSV writes the input as text with \xNN escapes for bytes.
    private static byte[] DecodeEscapes(string text)
    {
        var bytes = new List<byte>();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 3 < text.Length && text[i + 1] == 'x')
            {
                bytes.Add(Convert.ToByte(text.Substring(i + 2, 2), 16));
                i += 3;
            }
            else
            {
                bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(text[i].ToString()));
            }
        }

        return bytes.ToArray();
    }
}
