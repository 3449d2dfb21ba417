using AgentSecurity.Hosting.Storage;

namespace AgentSecurity.Hosting.Tests.Storage;

/// <summary>Two services on one storage account must never share the kernel's names unless told to.</summary>
public sealed class StorageNamePrefixTests
{
    [Theory]
    [InlineData("agentsec")]
    [InlineData("platform42")]
    public void FromServiceId_AlreadyAPrefix_IsItself(string serviceId) =>
        Assert.Equal(serviceId, StorageNamePrefix.FromServiceId(serviceId));

    [Theory]
    [InlineData("Agent-Sec", "agentsec")]
    [InlineData("agent.sec", "agentsec")]
    [InlineData("AgentSec", "agentsec")]
    [InlineData("Agent-Sec", "agent.sec")]
    [InlineData("a-very-long-service-identifier-one", "a-very-long-service-identifier-two")]
    public void FromServiceId_ServiceIdsAlikeButNotTheSame_GiveDifferentPrefixes(string one, string other) =>
        Assert.NotEqual(StorageNamePrefix.FromServiceId(one), StorageNamePrefix.FromServiceId(other));

    [Theory]
    [InlineData("Agent-Sec")]
    [InlineData("42")]
    [InlineData("---")]
    [InlineData("a-very-long-service-identifier-that-goes-on-and-on")]
    [InlineData("Ünïcödé service")]
    public void FromServiceId_AnyServiceId_GivesAValidPrefixTheSameEachTime(string serviceId)
    {
        var prefix = StorageNamePrefix.FromServiceId(serviceId);

        Assert.True(StorageNamePrefix.IsValid(prefix), prefix);
        Assert.Equal(prefix, StorageNamePrefix.FromServiceId(serviceId));
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public void Resolve_NoPrefixConfigured_MakesOneFromTheServiceId(string? configured) =>
        Assert.Equal(("agentsec", null), StorageNamePrefix.Resolve(configured, "agentsec"));

    [Theory]
    [InlineData("Bad")]
    [InlineData("9lives")]
    [InlineData("with-dash")]
    [InlineData("a23456789012345678901234x")]
    public void Resolve_InvalidConfiguredPrefix_IsRefused(string configured)
    {
        var (prefix, error) = StorageNamePrefix.Resolve(configured, "agentsec");

        Assert.Null(prefix);
        Assert.Contains("NamePrefix", error, StringComparison.Ordinal);
    }
}
