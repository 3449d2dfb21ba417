using AgentSecurity.Integration.Tests.Infrastructure;

namespace AgentSecurity.Integration.Tests;

/// <summary>A production silo never signs checkpoints with a key it made up: without an audit key it does not start.</summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class AuditKeyStartupTests(ClusterProcessFixture cluster)
{
    [Fact]
    public async Task Silo_WithoutAnAuditKeyOutsideDevelopment_RefusesToStartNamingTheSetting()
    {
        using var silo = new SiloProcess(cluster.StorageConnectionString, cluster.Operator.Did.Value, $"nokey-{Guid.NewGuid():N}", auditKeyFile: null,
            new Dictionary<string, string> { ["DOTNET_ENVIRONMENT"] = "Production", ["ASPNETCORE_ENVIRONMENT"] = "Production" });

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => silo.StartAsync());

        Assert.Contains("the silo exited while starting", refused.Message, StringComparison.Ordinal);
        Assert.Contains("AgentSecurity:Audit:KeyFile (AGENTSEC_AUDIT_KEY) is required outside development", refused.Message, StringComparison.Ordinal);
    }
}
