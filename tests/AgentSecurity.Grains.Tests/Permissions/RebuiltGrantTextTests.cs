using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSecurity.Grains.Permissions;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests.Permissions;

/// <summary>
/// An agent holds its grant's text as what rebuilds it (a shared template, its ids and times, the signature) only when
/// the rebuild gives back exactly the text; any other text stays held as it is.
/// </summary>
public sealed class RebuiltGrantTextTests
{
    private static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(60);

    // Every slot filled (agentDid, parentGrantId, notBefore), tools and tool rules, limits.
    private static string Signed(string agent, string grantId, DateTimeOffset issuedAt, string tool = "files/read_*") =>
        TestDocuments.GrantV2("text-shared", agent, issuedAt, [tool], """{"approve":["files/read_secret"]}""", grantId)
            .Set("agentDid", TestKeys.FromByte(0x31).Did.Value)
            .Set("parentGrantId", "g-parent")
            .Set("notBefore", issuedAt.AddMinutes(1))
            .SetJson("resourceLimits", """{"checksPerSecond":100,"llmTokensPerHour":100000}""")
            .SignWith(TestKeys.Root);

    private static (GrantDocument Document, ActiveGrant Grant) Compile(string text)
    {
        var document = GrantDocument.Parse(text).Value;
        return (document, ActiveGrant.Compile(document, ClockSkew));
    }

    /// <summary>The rebuilt form of an agent's text made after another agent's with the same template (the first keeps its text compressed).</summary>
    private static RebuiltGrantText? SecondOfItsTemplate(string first, string firstAgent, string text, string agent)
    {
        var (firstDocument, firstGrant) = Compile(first);
        Assert.Null(RebuiltGrantText.For(firstDocument, firstGrant, firstAgent, first)); // no other agent has its template yet
        var (document, grant) = Compile(text);
        return RebuiltGrantText.For(document, grant, agent, text);
    }

    [Fact]
    public void For_CanonicalGrantWithEverySlot_RebuildsTheExactText()
    {
        // A tool of its own: a template no other test makes, so this test's first agent is the first with it.
        var text = Signed("bot", "g-1", TestDocuments.Epoch, tool: "files/every_slot_*");

        var rebuilt = SecondOfItsTemplate(Signed("bot-first", "g-0", TestDocuments.Epoch, tool: "files/every_slot_*"), "bot-first", text, "bot");

        Assert.NotNull(rebuilt);
        Assert.Equal(text, rebuilt.Text());
    }

    [Fact]
    public void For_TextWithWhitespaceOrAnotherMemberOrder_IsNull()
    {
        var text = Signed("bot", "g-1", TestDocuments.Epoch);
        var (document, grant) = Compile(text);
        var node = JsonNode.Parse(text)!.AsObject();
        var indented = node.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        var reordered = new JsonObject(node.Reverse().Select(m => KeyValuePair.Create(m.Key, m.Value?.DeepClone()))).ToJsonString();

        Assert.Null(RebuiltGrantText.For(document, grant, "bot", indented));
        Assert.Null(RebuiltGrantText.For(document, grant, "bot", reordered));
        Assert.Null(RebuiltGrantText.For(document, grant, "other", text));
    }

    [Fact]
    public void For_GrantsThatDifferOnlyInIdsTimesAndSignature_ShareOneTemplate()
    {
        var first = Signed("a1", "g-a1", TestDocuments.Epoch);
        var second = Signed("a2", "g-a2", TestDocuments.Epoch.AddHours(3));
        var (secondDocument, secondGrant) = Compile(second);

        var a = SecondOfItsTemplate(Signed("a0", "g-a0", TestDocuments.Epoch), "a0", first, "a1")!;
        var b = RebuiltGrantText.For(secondDocument, secondGrant, "a2", second)!;

        Assert.Same(a.Template, b.Template);
        Assert.Equal(first, a.Text());
        Assert.Equal(second, b.Text());
        var other = Signed("a3", "g-a3", TestDocuments.Epoch, tool: "files/*");
        var c = SecondOfItsTemplate(Signed("a4", "g-a4", TestDocuments.Epoch, tool: "files/*"), "a4", other, "a3")!;
        Assert.NotSame(a.Template, c.Template);
        Assert.Equal(other, c.Text());
    }

    [Fact]
    public void For_CommonV1Grant_RebuildsTheExactText()
    {
        // No agentDid, notBefore or parentGrantId: the shape most agents hold.
        string V1(string agent, string grantId) => TestDocuments.Grant("text-v1", agent, TestDocuments.Epoch, grantId)
            .SetJson("resourceLimits", """{"checksPerSecond":100}""").SignWith(TestKeys.Root);
        var text = V1("bot", "g-v1");

        var rebuilt = SecondOfItsTemplate(V1("bot-first", "g-v0"), "bot-first", text, "bot");

        Assert.NotNull(rebuilt);
        Assert.Equal(text, rebuilt.Text());
        Assert.True(rebuilt.Template.IsCompressed);
    }

    [Fact]
    public void For_TwoTenantsWithOtherwiseEqualGrants_HoldDifferentTemplates()
    {
        var first = TestDocuments.Grant("text-tenant-a", "bot", TestDocuments.Epoch).SignWith(TestKeys.Root);
        var second = TestDocuments.Grant("text-tenant-b", "bot", TestDocuments.Epoch).SignWith(TestKeys.Root);

        var a = SecondOfItsTemplate(TestDocuments.Grant("text-tenant-a", "bot0", TestDocuments.Epoch, "g-0").SignWith(TestKeys.Root), "bot0", first, "bot")!;
        var b = SecondOfItsTemplate(TestDocuments.Grant("text-tenant-b", "bot0", TestDocuments.Epoch, "g-0").SignWith(TestKeys.Root), "bot0", second, "bot")!;

        Assert.NotSame(a.Template, b.Template);
        Assert.NotEqual(a.Template, b.Template);
        Assert.Equal(first, a.Text());
        Assert.Equal(second, b.Text());
    }
}
