using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSecurity.Grains.Issuers;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace AgentSecurity.Grains.Tests;

/// <summary>
/// The issuer's record of an accepted grant keeps its hash as bytes and its signer as a shared string: it compares,
/// copies and stores as the strings did, and the stored form is the one states were written in before. What the issuer
/// decides by them after a reload (replays, a delegator's revocation) is in <see cref="DelegationTests"/>.
/// </summary>
public sealed class AcceptedGrantTests
{
    private const string Hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    [Fact]
    public void StoredForm_StateWrittenBefore_LoadsWithItsValuesAndIsWrittenTheSame()
    {
        var stored = """
            {"AcceptedGrants":{"g-1":{"ContentHash":"@HASH@","AgentId":"bot","ExpiresAt":"2026-12-03T05:00:00+00:00","SignedBy":"did:key:z6MkSigner","ParentGrantId":"p-1","AgentDid":"did:key:z6MkBot","Depth":2},
             "g-2":{"ContentHash":"NOT-A-HASH","AgentId":"bot2","ExpiresAt":"2026-12-03T05:00:00+00:00","SignedBy":"did:key:z6MkSigner","ParentGrantId":null,"AgentDid":null,"Depth":1}}}
            """.Replace("@HASH@", Hash, StringComparison.Ordinal);

        var state = JsonSerializer.Deserialize<IssuerGrainState>(stored)!;

        var grant = state.AcceptedGrants["g-1"];
        Assert.Equal(Hash, grant.ContentHash);
        Assert.True(grant.HasContent(Hash));
        Assert.False(grant.HasContent(Hash.ToUpperInvariant()));
        Assert.False(grant.HasContent(Hash[..^1] + "9"));
        Assert.Equal("did:key:z6MkSigner", grant.SignedBy);
        Assert.Same(grant.SignedBy, state.AcceptedGrants["g-2"].SignedBy);
        Assert.Equal("NOT-A-HASH", state.AcceptedGrants["g-2"].ContentHash);
        Assert.True(state.AcceptedGrants["g-2"].HasContent("NOT-A-HASH"));
        Assert.False(state.AcceptedGrants["g-2"].HasContent("not-a-hash"));

        var written = JsonNode.Parse(JsonSerializer.Serialize(state))!["AcceptedGrants"];
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(stored)!["AcceptedGrants"], written), written?.ToJsonString());
    }

    [Fact]
    public void DeepCopy_AcceptedGrant_KeepsHashAndSigner()
    {
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var state = new IssuerGrainState();
        state.AcceptedGrants["g-1"] = new AcceptedGrant { ContentHash = Hash, SignedBy = "did:key:z6MkSigner", AgentId = "bot" };

        var copy = services.GetRequiredService<DeepCopier<IssuerGrainState>>().Copy(state);

        Assert.Equal(Hash, copy.AcceptedGrants["g-1"].ContentHash);
        Assert.True(copy.AcceptedGrants["g-1"].HasContent(Hash));
        Assert.Equal("did:key:z6MkSigner", copy.AcceptedGrants["g-1"].SignedBy);
    }

    [Fact]
    public void AcceptedGrant_EveryPublicSetter_IsInitOnlyOrAssignableOnce()
    {
        // Immutable: one record is shared by the live state and the copy being changed, so a member set again would
        // change both. Orleans' serializer needs a setter for members read through a property: those assign once.
        foreach (var property in typeof(AcceptedGrant).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.SetMethod is not { IsPublic: true } setter ||
                setter.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(System.Runtime.CompilerServices.IsExternalInit)))
            {
                continue;
            }

            Assert.True(property.PropertyType == typeof(string), $"{property.Name}: a settable member this test cannot give values to");
            var grant = new AcceptedGrant();
            property.SetValue(grant, Hash);
            var again = Assert.Throws<TargetInvocationException>(() => property.SetValue(grant, "did:key:z6MkOther"));
            Assert.IsType<InvalidOperationException>(again.InnerException);
            Assert.Equal(Hash, property.GetValue(grant));
        }
    }
}
