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

    [Fact]
    public void TryEnter_PastTheTenantsShare_IsRefusedWhileOtherTenantsGoOn()
    {
        using var services = Services(o => { o.MaxExecutionsPerSilo = 3; o.MaxExecutionsPerTenant = 2; });

        Assert.Null(services.TryEnter("a"));
        Assert.Null(services.TryEnter("a"));
        Assert.Contains("tenant", services.TryEnter("a")?.Message, StringComparison.Ordinal);
        Assert.Null(services.TryEnter("b"));
        Assert.Contains("silo", services.TryEnter("c")?.Message, StringComparison.Ordinal);

        services.Exit("a");
        Assert.Null(services.TryEnter("c"));
        Assert.Equal(3, services.Running);
    }
}
