using AgentSecurity.Grains.Audit;
using AgentSecurity.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Tests.Audit;

/// <summary>
/// The audit settings a silo refuses to start with, each given as an operator writes it (a configuration value under
/// <c>AgentSecurity:Audit</c>), one theory row per bound; detection rules are checked for every tenant that has its own.
/// </summary>
public sealed class AuditOptionsValidatorTests
{
    private static AuditOptions Options(string? setting = null, string? value = null)
    {
        var options = new AuditOptions();
        if (setting is not null)
        {
            new ConfigurationBuilder().AddInMemoryCollection([new(setting, value)]).Build().Bind(options);
        }

        return options;
    }

    private static ValidateOptionsResult Validate(AuditOptions options, string environment = "Development") =>
        new AuditOptionsValidator(new Environment(environment)).Validate(Microsoft.Extensions.Options.Options.DefaultName, options);

    [Fact]
    public void Validate_Defaults_Succeed() => Assert.True(Validate(Options()).Succeeded);

    [Fact]
    public void Validate_NoKeyFileOutsideDevelopment_FailsNamingTheSetting()
    {
        var result = Validate(Options(), "Production");

        Assert.True(result.Failed);
        Assert.Contains("AgentSecurity:Audit:KeyFile (AGENTSEC_AUDIT_KEY) is required outside development", Assert.Single(result.Failures!), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_KeyFileOutsideDevelopment_Succeeds()
    {
        var file = Path.GetTempFileName();
        try
        {
            Assert.True(Validate(Options("KeyFile", file), "Production").Succeeded);
            Assert.Contains("does not exist", Assert.Single(Validate(Options("KeyFile", file + ".missing"), "Production").Failures!), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private sealed class Environment(string name) : Microsoft.Extensions.Hosting.IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;

        public string ApplicationName { get; set; } = "tests";

        public string ContentRootPath { get; set; } = ".";

        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = new Microsoft.Extensions.FileProviders.NullFileProvider();
    }

    [Theory]
    [InlineData("CheckpointEveryRecords", "1")]
    [InlineData("Rules:DenyBurst:Threshold", "1")]
    [InlineData("Rules:DenyBurst:Threshold", "1000000")]
    [InlineData("Rules:QuotaStorm:Window", "1.00:00:00")]
    [InlineData("Tenants:acme:SandboxViolations:Threshold", "1")]
    [InlineData("QueueMessageMaxEvents", "1")]
    [InlineData("QueueMessageMaxEvents", "10000")]
    [InlineData("QueueMessageMaxBytes", "1024")]
    [InlineData("QueueMessageMaxBytes", "46000")]
    public void Validate_SettingAtItsBound_Succeeds(string setting, string value) =>
        Assert.True(Validate(Options(setting, value)).Succeeded);

    [Fact]
    public void Validate_TrustedDidsThatAreDidKeys_Succeed()
    {
        var options = Options();
        options.TrustedDids.AddRange([TestKeys.Root.Did.Value, TestKeys.OtherRoot.Did.Value]);

        Assert.True(Validate(options).Succeeded);
    }

    [Theory]
    [InlineData("CheckpointEveryRecords", "0")]
    [InlineData("CheckpointInterval", "00:00:00")]
    [InlineData("AllowedSummaryInterval", "-00:00:01")]
    [InlineData("TrustedDids:0", "did:web:example.com")]
    [InlineData("QueueMessageMaxEvents", "0")]
    [InlineData("QueueMessageMaxEvents", "10001")]
    [InlineData("QueueMessageMaxBytes", "1023")]
    [InlineData("QueueMessageMaxBytes", "46001")]
    public void Validate_SettingOutOfBounds_FailsNamingIt(string setting, string value)
    {
        var result = Validate(Options(setting, value));

        Assert.True(result.Failed);
        Assert.Contains(setting.Split(':')[0], Assert.Single(result.Failures!), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "DenyBurst", "Threshold", "0")]
    [InlineData(null, "SandboxViolations", "Threshold", "1000001")]
    [InlineData(null, "QuotaStorm", "Window", "00:00:00")]
    [InlineData(null, "DenyBurst", "Window", "1.00:00:00.0000001")]
    [InlineData("acme", "QuotaStorm", "Threshold", "0")]
    [InlineData("acme", "SandboxViolations", "Window", "2.00:00:00")]
    public void Validate_RuleOutOfBounds_FailsNamingTheRuleItsTenantAndTheSetting(string? tenant, string rule, string setting, string value)
    {
        var result = Validate(Options(tenant is null ? $"Rules:{rule}:{setting}" : $"Tenants:{tenant}:{rule}:{setting}", value));

        Assert.True(result.Failed);
        var failure = Assert.Single(result.Failures!);
        Assert.Contains($"rule {rule} of {tenant ?? "(default)"}", failure, StringComparison.Ordinal);
        Assert.Contains(setting, failure, StringComparison.Ordinal);
    }
}
