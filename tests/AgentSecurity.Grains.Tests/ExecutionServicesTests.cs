using System.Net;
using AgentSecurity.Grains.Execution;
using AgentSecurity.Sandbox;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Tests;

public sealed class ExecutionServicesTests
{
    private static ExecutionServices Services(Action<SandboxOptions>? configure = null)
    {
        var options = new SandboxOptions { WorkspaceRoot = Path.GetTempPath() };
        configure?.Invoke(options);
        return new ExecutionServices([], Options.Create(options), TimeProvider.System, NullLogger<ExecutionServices>.Instance, new ServiceCollection().BuildServiceProvider());
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.8.9.10")]
    [InlineData("0.0.0.0")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("192.0.0.170")]
    [InlineData("198.18.0.1")]
    [InlineData("240.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("224.0.0.1")]
    [InlineData("168.63.129.16")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("fe80::1")]
    [InlineData("fd00::1")]
    [InlineData("ff02::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("::10.0.0.1")]
    [InlineData("64:ff9b::a9fe:a9fe")]
    [InlineData("2002:a9fe:a9fe::1")]
    public void IsInternal_NonPublicAddresses_AreInternal(string address) =>
        Assert.True(ExecutionServices.IsInternal(IPAddress.Parse(address)));

    [Theory]
    [InlineData("1.1.1.1")]
    [InlineData("93.184.216.34")]
    [InlineData("172.32.0.1")]
    [InlineData("2606:4700::1111")]
    [InlineData("::ffff:1.1.1.1")]
    [InlineData("64:ff9b::101:101")]
    public void IsInternal_PublicAddresses_AreNot(string address) =>
        Assert.False(ExecutionServices.IsInternal(IPAddress.Parse(address)));

    [Fact]
    public void TryEnter_PastTheTenantsShare_IsRefusedWhileOtherTenantsGoOn()
    {
        using var services = Services(o => { o.MaxExecutionsPerSilo = 3; o.MaxExecutionsPerTenant = 2; });

        Assert.Null(services.TryEnter("a"));
        Assert.Null(services.TryEnter("a"));
        Assert.Contains("tenant", services.TryEnter("a"), StringComparison.Ordinal);
        Assert.Null(services.TryEnter("b"));
        Assert.Contains("silo", services.TryEnter("c"), StringComparison.Ordinal);

        services.Exit("a");
        Assert.Null(services.TryEnter("c"));
        Assert.Equal(3, services.Running);
    }
}
