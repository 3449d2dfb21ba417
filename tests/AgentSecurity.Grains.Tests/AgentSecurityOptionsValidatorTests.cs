using AgentSecurity.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Tests;

/// <summary>
/// A silo refuses to start with settings that would weaken or break the kernel, and says which setting. Each setting is
/// given as an operator writes it (a configuration value under <c>AgentSecurity</c>), one theory row per bound.
/// </summary>
public sealed class AgentSecurityOptionsValidatorTests
{
    /// <summary>The defaults with the one setting that has none, the operator's DID.</summary>
    private static AgentSecurityOptions Options(string? setting = null, string? value = null)
    {
        var options = new AgentSecurityOptions { OperatorDid = TestKeys.Operator.Did.Value };
        if (setting is not null)
        {
            new ConfigurationBuilder().AddInMemoryCollection([new(setting, value)]).Build().Bind(options);
        }

        return options;
    }

    private static ValidateOptionsResult Validate(AgentSecurityOptions options) =>
        new AgentSecurityOptionsValidator().Validate(Microsoft.Extensions.Options.Options.DefaultName, options);

    [Fact]
    public void Validate_DefaultsWithAnOperatorDid_Succeed() => Assert.True(Validate(Options()).Succeeded);

    [Fact]
    public void Validate_NoOperatorDid_FailsNamingIt()
    {
        // There is no default operator: a default would be a key someone else holds.
        var result = Validate(new AgentSecurityOptions());

        Assert.True(result.Failed);
        Assert.Contains("AgentSecurity:OperatorDid", Assert.Single(result.Failures!), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ClockSkew", "00:00:00")]
    [InlineData("ClockSkew", "00:10:00")]
    [InlineData("GrantHistoryLength", "0")]
    [InlineData("GrantHistoryLength", "256")]
    [InlineData("MaxPendingRequestsPerAgent", "512")] // as many as the tenant's
    [InlineData("MaxMemoryBytesPerAgent", "0")]
    [InlineData("MaxMemoryKeys", "0")]
    [InlineData("MaxMemoryValueBytes", "0")]
    [InlineData("MaxLiveGrantsPerTenant", "1")]
    [InlineData("MaxAdminsPerTenant", "1")]
    public void Validate_SettingAtItsBound_Succeeds(string setting, string value) =>
        Assert.True(Validate(Options(setting, value)).Succeeded);

    [Theory]
    [InlineData("OperatorDid", "did:web:example.com")]
    [InlineData("OperatorDid", "did:key:z6MkNotAKey")]
    [InlineData("ClockSkew", "-00:00:01")]
    [InlineData("ClockSkew", "00:10:00.0000001")]
    [InlineData("GrantHistoryLength", "-1")]
    [InlineData("GrantHistoryLength", "257")]
    [InlineData("PermissionRequestLifetime", "00:00:00")]
    [InlineData("MaxElevationLifetime", "-01:00:00")]
    [InlineData("MaxLiveGrantsPerTenant", "0")]
    [InlineData("TenantLimitsRefreshInterval", "00:00:00")]
    [InlineData("MaxPendingRequestsPerAgent", "0")]
    [InlineData("MaxPendingRequestsPerTenant", "7")] // fewer than one agent may have open
    [InlineData("MaxAdminsPerTenant", "0")]
    public void Validate_SettingOutOfBounds_FailsNamingIt(string setting, string value)
    {
        var result = Validate(Options(setting, value));

        Assert.True(result.Failed);
        Assert.Contains(setting, Assert.Single(result.Failures!), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MaxMemoryBytesPerAgent", "-1")]
    [InlineData("MaxMemoryKeys", "-1")]
    [InlineData("MaxMemoryValueBytes", "-1")]
    public void Validate_MemoryCapNegative_FailsNamingIt(string setting, string value)
    {
        var result = Validate(Options(setting, value));

        Assert.True(result.Failed);
        Assert.StartsWith($"AgentSecurity:{setting} must not be negative", Assert.Single(result.Failures!), StringComparison.Ordinal);
    }
}
