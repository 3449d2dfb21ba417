using AgentSecurity.Grains.Agents;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests;

/// <summary>An agent holds its grant's text compressed: it reads back exactly, is smaller, and never reads back as another text.</summary>
public sealed class CompactTextTests
{
    public static TheoryData<string> Texts => new()
    {
        string.Empty,
        "{}",
        "{\"b\":\"caf\u00e9 \u20ac \U0001F600\"}",
        TestDocuments.Grant("t", "a", TestDocuments.Epoch).SignWith(TestKeys.Root),
        new string('x', 100_000),
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void Read_WhatWriteMade_IsTheExactText(string text)
    {
        Assert.Equal(text, CompactText.Read(CompactText.Write(text)));
    }

    [Fact]
    public void Write_SignedGrant_TakesFewerBytesThanItsUtf8()
    {
        var grant = TestDocuments.Grant("tenant", "agent", TestDocuments.Epoch)
            .SetJson("resourceLimits", """{"checksPerSecond":100,"llmTokensPerHour":100000}""")
            .SignWith(TestKeys.Root);

        var compact = CompactText.Write(grant);

        Assert.True(compact.Length < System.Text.Encoding.UTF8.GetByteCount(grant) * 3 / 4, $"{compact.Length} bytes for {grant.Length} characters");
    }

    [Fact]
    public void Read_DamagedBytes_ThrowsRatherThanAnsweringAnotherText()
    {
        var compact = CompactText.Write(TestDocuments.Grant("t", "a", TestDocuments.Epoch).SignWith(TestKeys.Root));
        var truncated = compact[..^8];
        var lengthened = (byte[])compact.Clone();
        lengthened[1]++; // says the text is one byte longer than what decompresses

        Assert.ThrowsAny<Exception>(() => CompactText.Read(truncated));
        Assert.ThrowsAny<Exception>(() => CompactText.Read(lengthened));
        Assert.ThrowsAny<Exception>(() => CompactText.Read([7, 1, 2, 3, 4, 5]));
    }

    [Fact]
    public void Write_LoneSurrogate_Throws()
    {
        Assert.ThrowsAny<ArgumentException>(() => CompactText.Write("\ud800"));
    }
}
