using AgentSecurity.Hosting.Storage;

namespace AgentSecurity.Hosting.Tests.Storage;

/// <summary>A silo whose settings give the kernel no storage refuses to start, saying which service is missing.</summary>
public sealed class KernelStorageValidatorTests
{
    [Fact]
    public void Failures_NothingConfigured_NamesEveryService() =>
        Assert.Equal(["table", "blob", "queue"], KernelStorageValidator.Failures(new AgentSecurityStorageOptions(), "agentsec")
            .Select(f => f.Split("no ")[1].Split(' ')[0]));

    [Fact]
    public void Failures_ConnectionString_None() =>
        Assert.Empty(KernelStorageValidator.Failures(new AgentSecurityStorageOptions { ConnectionString = "UseDevelopmentStorage=true" }, "agentsec"));

    [Fact]
    public void Failures_OnlyTheTableServiceUri_NamesTheOthers() =>
        Assert.Equal(2, KernelStorageValidator.Failures(new AgentSecurityStorageOptions { TableServiceUri = new Uri("https://account.table.core.windows.net") }, "agentsec").Count);

    [Fact]
    public void Failures_InvalidPrefix_IsNamed() =>
        Assert.Contains(KernelStorageValidator.Failures(new AgentSecurityStorageOptions { ConnectionString = "UseDevelopmentStorage=true", NamePrefix = "Bad" }, "agentsec"),
            f => f.Contains("NamePrefix", StringComparison.Ordinal));
}
