using AgentSecurity.Grains.Execution;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Tests.Execution;

/// <summary>
/// The sandbox settings a silo refuses to start with, each given as an operator writes it (a configuration value under
/// <c>AgentSecurity:Sandbox</c>), one theory row per bound.
/// </summary>
public sealed class SandboxOptionsValidatorTests
{
    private static SandboxOptions Options(string? setting = null, string? value = null)
    {
        var options = new SandboxOptions();
        if (setting is not null)
        {
            new ConfigurationBuilder().AddInMemoryCollection([new(setting, value)]).Build().Bind(options);
        }

        return options;
    }

    private static ValidateOptionsResult Validate(SandboxOptions options) =>
        new SandboxOptionsValidator().Validate(Microsoft.Extensions.Options.Options.DefaultName, options);

    private static string SingleFailure(string setting, string value)
    {
        var result = Validate(Options(setting, value));

        Assert.True(result.Failed, $"{setting} = {value} was accepted");
        return Assert.Single(result.Failures!);
    }

    [Fact]
    public void Validate_Defaults_Succeed() => Assert.True(Validate(Options()).Succeeded);

    [Theory]
    [InlineData("MaxWallMillis", "120000")]
    [InlineData("DefaultCpuMillis", "60000")] // as much as the maximum
    [InlineData("DefaultConcurrentExecutions", "1")]
    [InlineData("FirstUserId", "1000")]
    [InlineData("UserIdCount", "1")]
    [InlineData("MaxInputBytes", "0")]
    [InlineData("HostCallsPerExecution", "0")]
    [InlineData("MaxOutputBytes", "2147483647")]
    [InlineData("WorkspaceSweepInterval", "1.00:00:00")]
    [InlineData("LlmBaseUrl", "http://127.0.0.1:8000/v1")]
    [InlineData("LlmBaseUrl", "https://llm.example.com/v1")]
    public void Validate_SettingAtItsBound_Succeeds(string setting, string value) =>
        Assert.True(Validate(Options(setting, value)).Succeeded);

    [Theory]
    [InlineData("WorkspaceRoot", "agentsec-workspaces")]
    [InlineData("DefaultConcurrentExecutions", "0")]
    [InlineData("MaxConcurrentExecutions", "1")] // below the default of 2
    [InlineData("MaxWallMillis", "120001")]
    [InlineData("FirstUserId", "999")]
    [InlineData("FirstUserId", "2146483648")] // the million ids would pass 2^31
    [InlineData("WorkspaceSweepInterval", "1.00:00:00.0000001")]
    [InlineData("WorkspaceSweepInterval", "00:00:00")]
    [InlineData("LlmBaseUrl", "ftp://llm.example.com/v1")]
    [InlineData("LlmBaseUrl", "v1/chat")]
    public void Validate_SettingOutOfBounds_FailsNamingIt(string setting, string value) =>
        Assert.Contains(setting, SingleFailure(setting, value), StringComparison.Ordinal);

    [Theory]
    [InlineData("DefaultMemoryBytes", "0", "Memory")]
    [InlineData("MaxMemoryBytes", "1048576", "Memory")] // below the default of 64 MiB
    [InlineData("DefaultCpuMillis", "0", "Cpu")]
    [InlineData("MaxCpuMillis", "1000", "Cpu")]
    [InlineData("DefaultWallMillis", "-1", "Wall")]
    [InlineData("MaxWallMillis", "4999", "Wall")]
    [InlineData("DefaultOutputBytes", "0", "Output")]
    [InlineData("MaxOutputBytes", "65535", "Output")]
    public void Validate_DefaultAboveItsMaximumOrNotPositive_FailsNamingTheSetting(string setting, string value, string pair)
    {
        var failure = SingleFailure(setting, value);

        Assert.StartsWith($"AgentSecurity:Sandbox:{setting} ", failure, StringComparison.Ordinal);
        Assert.Contains(setting.StartsWith("Max", StringComparison.Ordinal) ? $"at least Default{pair}" : "must be positive", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("UserIdCount", "0")]
    [InlineData("MaxOutputBytes", "2147483648")]
    [InlineData("MaxExecutionsPerSilo", "0")]
    [InlineData("MaxExecutionsPerTenant", "0")]
    [InlineData("MaxCodeBytes", "0")]
    [InlineData("MaxInputBytes", "-1")]
    [InlineData("HostCallsPerExecution", "-1")]
    [InlineData("ProcessesPerExecution", "0")]
    [InlineData("MaxFileReadBytes", "0")]
    [InlineData("MaxFileWriteBytes", "0")]
    [InlineData("HttpTimeout", "00:00:00")]
    [InlineData("MaxHttpResponseBytes", "0")]
    [InlineData("LlmMaxTokens", "0")]
    [InlineData("MaxWorkspaceBytes", "0")]
    [InlineData("MaxWorkspaceEntries", "0")]
    [InlineData("WorkspaceRetention", "00:00:00")]
    public void Validate_SizeCountOrTimeoutOutOfBounds_FailsNamingIt(string setting, string value)
    {
        Assert.StartsWith($"AgentSecurity:Sandbox:{setting} ", SingleFailure(setting, value), StringComparison.Ordinal);
    }
}
