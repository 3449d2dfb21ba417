using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grants;
using AgentSecurity.Integration.Tests.Infrastructure;
using Xunit.Abstractions;

namespace AgentSecurity.Integration.Tests.SecurityConsole;

/// <summary>
/// The security console in a real browser (headless Chromium, driven over the DevTools protocol) against a real silo
/// process: the page loads from the silo, subscribes to a tenant's events, and shows a check denied after it loaded,
/// live, within a second of the check; its overview shows the denial by capability, the budget the tenant's agents use,
/// the agent a document quarantined and why, and the log's last verification. The screenshot in docs/operations.md is
/// this test's (set <c>AGENTSEC_CONSOLE_SCREENSHOT</c> to a file to keep it).
/// </summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class SecurityConsoleBrowserTests(ClusterProcessFixture cluster, ITestOutputHelper output)
{
    /// <summary>What the issue asks: a denial on the console within a second of the check.</summary>
    private static readonly TimeSpan LiveWithin = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long the test may wait for the browser, the silo and the command line (a quarantine, the overview's refresh)
    /// before it fails: a deadline for a loaded machine, not the measure; the live denial is held to <see cref="LiveWithin"/>.
    /// </summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(300);

    [Fact]
    public async Task Console_ACheckDeniedAfterThePageLoaded_ShowsLiveWithinASecondAndInTheOverview()
    {
        var (tenant, rootKey) = await HttpCallers.TenantAsync(cluster, "console");
        var service = await HttpCallers.NodeSessionAsync(cluster);
        await HttpCallers.GrantAccessAsync(cluster, rootKey, tenant, service.Did, "check");
        var limits = await cluster.AgentsecAsync("limits", "set", "--key", rootKey, "--tenant", tenant, "--limit", "llmTokensPerHour=100000", "--limit", "checksPerSecond=1000", "--json");
        Assert.True(limits.ExitCode == 0, limits.ToString());
        var verified = await cluster.AgentsecAsync("audit", "verify", tenant, "--json");
        Assert.True(verified.ExitCode == 0, verified.ToString());
        using var http = HttpCallers.Client(cluster);
        using var timeout = new CancellationTokenSource(Timeout);
        await using var chromium = await HeadlessChromium.StartAsync(timeout.Token);
        await using var page = await chromium.PageAsync(timeout.Token);
        await page.SendAsync("Emulation.setDeviceMetricsOverride", new JsonObject { ["width"] = 1400, ["height"] = 1000, ["deviceScaleFactor"] = 1, ["mobile"] = false }, timeout.Token);

        await page.NavigateAsync(new Uri(cluster.Http, $"security?tenant={tenant}"), timeout.Token);
        try
        {
            await page.WaitForAsync("""document.querySelector("#stream-state")?.dataset.state === "open" """, timeout.Token);
        }
        catch (TimeoutException)
        {
            output.WriteLine(cluster.SiloOutput[^Math.Min(cluster.SiloOutput.Length, 6000)..]);
            throw;
        }

        Assert.Equal(HttpStatusCode.OK, await EvaluateAsync(http, tenant, service.Bearer, "llm", "gpt", amount: 500, allowed: true));
        var resource = $"/data/console-{Guid.NewGuid():N}.txt";
        var checkedAt = TimeProvider.System.GetUtcNow();
        Assert.Equal(HttpStatusCode.OK, await EvaluateAsync(http, tenant, service.Bearer, "fileSystem:write", resource, amount: null, allowed: false));
        var shown = await page.WaitForAsync($$"""
            (row => row && { received: Number(row.dataset.received), type: row.dataset.type, agent: row.cells[4].textContent, capability: row.cells[5].textContent, reason: row.cells[7].textContent })
            (document.querySelector('#events tr[data-resource="{{resource}}"]'))
            """, timeout.Token);
        var latency = DateTimeOffset.FromUnixTimeMilliseconds(shown.GetProperty("received").GetInt64()) - checkedAt;
        output.WriteLine($"denial shown on the console {latency.TotalMilliseconds:F0} ms after the check was sent");

        var quarantined = await cluster.AgentsecAsync("quarantine", "--key", rootKey, $"{tenant}/bot", "--reason", "exfiltration suspected (ticket 4711)", "--json");
        Assert.True(quarantined.ExitCode == 0, quarantined.ToString());
        var denials = await page.WaitForAsync(RowWhere("#denials", $$"""c[0] === "{{tenant}}" && c[1] === "fileSystem:write" """), timeout.Token);
        var quarantine = await page.WaitForAsync(RowWhere("#quarantined", $$"""c[0] === "{{tenant}}" && c[1] === "bot" """), timeout.Token);
        var budget = await page.WaitForAsync(RowWhere("#budget", $$"""c[0] === "{{tenant}}" && c[1] === "llmTokensPerHour" && !c[2].startsWith("0 /")"""), timeout.Token);
        var verification = await page.WaitForAsync(RowWhere("#verify", $$"""c[0] === "{{tenant}}" """), timeout.Token);
        await KeepScreenshotAsync(page, timeout.Token);

        Assert.Equal(SecurityEventTypes.CheckDenied, shown.GetProperty("type").GetString());
        Assert.Equal("bot", shown.GetProperty("agent").GetString());
        Assert.Equal("fileSystem:write", shown.GetProperty("capability").GetString());
        Assert.Equal(ReasonCodes.CapabilityNotGranted, shown.GetProperty("reason").GetString());
        Assert.True(latency < LiveWithin, $"the denial appeared {latency.TotalMilliseconds:F0} ms after the check; at most {LiveWithin.TotalMilliseconds} ms");
        Assert.Equal("1", denials[2].GetString());
        Assert.Equal("exfiltration suspected (ticket 4711)", quarantine[2].GetString());
        Assert.EndsWith("/ 100000 per hour", budget[2].GetString(), StringComparison.Ordinal);
        Assert.Equal("valid", verification[2].GetString());
    }

    /// <summary>The cells' text (<c>c</c>) of the first row of a section's table that <paramref name="predicate"/> holds for.</summary>
    private static string RowWhere(string section, string predicate) =>
        $$"""[...document.querySelectorAll("{{section}} tbody tr")].map(r => [...r.cells].map(c => c.textContent)).find(c => {{predicate}})""";

    private static async Task<HttpStatusCode> EvaluateAsync(HttpClient http, string tenant, string bearer, string capability, string resource, long? amount, bool allowed)
    {
        var context = amount is { } units ? $$""", "context": {"amount": {{units}}}""" : string.Empty;
        using var request = HttpCallers.Post("/access/v1/evaluation", $$"""
            {"subject": {"type": "agent", "id": "{{tenant}}/bot"}, "action": {"name": "{{capability}}"}, "resource": {"type": "file", "id": "{{resource}}"}{{context}}}
            """, bearer);
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(body.Contains($"\"decision\":{(allowed ? "true" : "false")}", StringComparison.Ordinal), body);
        return response.StatusCode;
    }

    private async Task KeepScreenshotAsync(DevToolsPage page, CancellationToken cancellation)
    {
        var png = await page.ScreenshotAsync(cancellation);
        Assert.True(png.AsSpan(0, 4).SequenceEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }), "the screenshot is a PNG");
        var file = Environment.GetEnvironmentVariable("AGENTSEC_CONSOLE_SCREENSHOT") ?? cluster.PathOf("security-console.png");
        await File.WriteAllBytesAsync(file, png, cancellation);
        output.WriteLine($"screenshot: {file}");
    }
}
