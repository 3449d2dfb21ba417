using System.Net;
using AgentSecurity.Integration.Tests.Infrastructure;

namespace AgentSecurity.Integration.Tests;

/// <summary>The silo's HTTP port on loopback, its default: dashboard, metrics and health are open there; exposed, the dashboard and metrics need the operator (tested in process in AgentSecurity.Hosting.Tests).</summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class SiloHttpTests(ClusterProcessFixture cluster)
{
    [Theory]
    [InlineData("dashboard/")]
    [InlineData("metrics")]
    [InlineData("healthz")]
    public async Task OnLoopback_DashboardMetricsAndHealth_AreOpen(string path)
    {
        using var http = HttpCallers.Client(cluster);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        using var response = await http.GetAsync(new Uri(path, UriKind.Relative), timeout.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Dashboard_OnLoopback_ReadsTheClusterThroughTheKernelsOwnCalls()
    {
        using var http = HttpCallers.Client(cluster);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        // The dashboard's handlers call Orleans' own grains from outside any grain: still the silo's own calls.
        using var response = await http.GetAsync(new Uri("dashboard/ClusterStats", UriKind.Relative), timeout.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
