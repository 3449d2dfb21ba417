using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Grains.Boundary;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace AgentSecurity.Grains.Tests.Boundary;

/// <summary>
/// Which calls a silo marks as the kernel's own. A silo's code that is no grain (an ASP.NET request handler on the silo,
/// calling through the silo's own grain factory) calls the kernel's interfaces as a client: the boundary decides its call
/// by the session it carries, exactly as for a .NET client, and a caller without the right is refused.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class KernelCallStampTests(ClusterFixture fixture)
{
    private static readonly System.Reflection.MethodInfo Check = typeof(IAgentGrain).GetMethod(nameof(IAgentGrain.CheckAsync))!;

    [Fact]
    public void IsKernelCall_KernelInterfaceFromOutsideAnyActivation_IsNotStamped() =>
        Assert.False(KernelCallStamp.IsKernelCall(fromKernel: false, Check));

    [Fact]
    public void IsKernelCall_FromAGrainActivation_IsStamped() =>
        Assert.True(KernelCallStamp.IsKernelCall(fromKernel: true, Check));

    [Fact]
    public void IsKernelCall_InAKernelScope_IsStampedUntilTheScopeEnds()
    {
        using (KernelScope.Enter())
        {
            Assert.True(KernelCallStamp.IsKernelCall(fromKernel: false, Check));
        }

        Assert.False(KernelCallStamp.IsKernelCall(fromKernel: false, Check));
    }

    [Fact]
    public void IsKernelCall_OrleansOwnInterface_IsStamped() =>
        Assert.True(KernelCallStamp.IsKernelCall(fromKernel: false, typeof(IManagementGrain).GetMethods().First(m => m.Name == nameof(IManagementGrain.GetHosts))));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void IsKernelCall_PlatformsInterface_IsNeverStamped(bool fromKernel)
    {
        // A platform's grain could pass the token on (a stream message carries its request context): it never gets it.
        using (KernelScope.Enter())
        {
            Assert.False(KernelCallStamp.IsKernelCall(fromKernel, typeof(IPlatformProbeGrain).GetMethod(nameof(IPlatformProbeGrain.PingAsync))));
        }
    }

    public interface IPlatformProbeGrain : IGrainWithStringKey
    {
        Task PingAsync();
    }

    [Fact]
    public void IsKernelCall_UnknownMethod_IsNotStamped() =>
        Assert.False(KernelCallStamp.IsKernelCall(fromKernel: false, method: null));

    [Fact]
    public async Task SiloHandlerCall_WithASessionWithoutTheRight_IsRefusedByTheBoundary()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", fixture.Now).SignWith(TestKeys.Root));
        var agent = SiloGrains().GetGrain<IAgentGrain>(AgentKey.Of(tenant, "bot"));

        var forbidden = await Assert.ThrowsAsync<CallRefusedException>(() => AsCaller(fixture.SessionOf(TestKeys.Stranger), () => agent.CheckAsync(new CheckRequest("llm"))));
        var unauthenticated = await Assert.ThrowsAsync<CallRefusedException>(() => AsCaller(null, () => agent.CheckAsync(new CheckRequest("llm"))));
        var allowed = await AsCaller(fixture.SessionOf(TestKeys.Root), () => agent.CheckAsync(new CheckRequest("llm")));

        Assert.Equal(ReasonCodes.Forbidden, forbidden.Code);
        Assert.Equal(ReasonCodes.Unauthenticated, unauthenticated.Code);
        Assert.True(allowed.Allowed, allowed.Message);
    }

    /// <summary>The grain factory of a silo of the test cluster, as an ASP.NET handler hosted with that silo gets it.</summary>
    private IGrainFactory SiloGrains() =>
        ((InProcessSiloHandle)fixture.Cluster.Primary!).SiloHost!.Services.GetRequiredService<IGrainFactory>();

    /// <summary>Runs a call on a thread-pool flow (no activation) that carries only the given session, as an HTTP request would.</summary>
    private static Task<T> AsCaller<T>(string? session, Func<Task<T>> call) => Task.Run(async () =>
    {
        RequestContext.Clear();
        if (session is not null)
        {
            RequestContext.Set(CallerContext.SessionKey, session);
        }

        return await call();
    });
}
