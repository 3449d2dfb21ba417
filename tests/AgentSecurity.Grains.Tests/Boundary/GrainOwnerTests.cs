using AgentSecurity.Grains.Boundary;

namespace AgentSecurity.Grains.Tests.Boundary;

/// <summary>Whose a grain is decides what the boundary asks of calls to it and whether its own calls are the kernel's.</summary>
public sealed class GrainOwnerTests
{
    [Fact]
    public void Of_KernelObject_IsKernel() =>
        Assert.Equal(GrainOwner.Kernel, GrainOwners.Of(new InterleavingGuard()));

    [Fact]
    public void Of_OrleansObject_IsOrleans() =>
        Assert.Equal(GrainOwner.Orleans, GrainOwners.Of(new Orleans.Runtime.GrainCallFrequency()));

    [Fact]
    public void Of_NoInstance_IsOrleansNeverKernel() =>
        Assert.Equal(GrainOwner.Orleans, GrainOwners.Of((object?)null));

    [Fact]
    public void Of_Interfaces_AreOwnedByTheirAssembly()
    {
        Assert.Equal(GrainOwner.Kernel, GrainOwners.Of(typeof(Abstractions.IAgentGrain)));
        Assert.Equal(GrainOwner.Orleans, GrainOwners.Of(typeof(Orleans.Runtime.IManagementGrain)));
        Assert.Equal(GrainOwner.Host, GrainOwners.Of(typeof(KernelCallStampTests.IPlatformProbeGrain)));
    }

    [Fact]
    public void Of_AnotherAssemblysObject_IsTheHosts() =>
        Assert.Equal(GrainOwner.Host, GrainOwners.Of(new GrainOwnerTests()));
}
