// Checks one action of an agent and prints the cluster's decision as JSON; exits 0 when allowed, 1 when denied.
//   PackagedClient TENANT/AGENT CAPABILITY [RESOURCE]
// The cluster, the caller's key and the TLS files come from the variables agentsec reads: AGENTSEC_GATEWAY,
// AGENTSEC_CLUSTER_ID, AGENTSEC_SERVICE_ID (default agentsec), AGENTSEC_KEY, AGENTSEC_TLS_CERT, AGENTSEC_TLS_KEY and
// AGENTSEC_TLS_CA (no TLS when AGENTSEC_TLS_CERT is empty: a loopback cluster in clear text).
using System.Text.Json;
using AgentSecurity.Abstractions;
using AgentSecurity.Client;
using AgentSecurity.Grants.Crypto;
using AgentSecurity.Tls;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

static string Setting(string name) =>
    Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : throw new InvalidOperationException($"{name} is not set");

if (args.Length is < 2 or > 3 || args[0].Split('/') is not [var tenant, var agent])
{
    Console.Error.WriteLine("usage: PackagedClient TENANT/AGENT CAPABILITY [RESOURCE]");
    return 2;
}

if (!SigningKey.FromKeyFileJson(File.ReadAllBytes(Setting("AGENTSEC_KEY"))).TryGetValue(out var key, out var failure))
{
    Console.Error.WriteLine($"AGENTSEC_KEY: {failure.Message}");
    return 2;
}

var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders(); // standard output is the decision alone
builder.UseOrleansClient(client =>
{
    client
        .UseAgentSecurity(Setting("AGENTSEC_GATEWAY"), Setting("AGENTSEC_CLUSTER_ID"), Environment.GetEnvironmentVariable("AGENTSEC_SERVICE_ID") ?? "agentsec")
        .UseAgentSecuritySession(key);
    if (Environment.GetEnvironmentVariable("AGENTSEC_TLS_CERT") is { Length: > 0 } certificate)
    {
        client.UseAgentSecurityTls(ClusterCertificates.Load(certificate, Setting("AGENTSEC_TLS_KEY"), Setting("AGENTSEC_TLS_CA")));
    }
});
using var host = builder.Build();
await host.StartAsync();

var decision = await host.Services.GetRequiredService<AgentSecurityClient>()
    .CheckAsync(tenant, agent, new CheckRequest(args[1], args.Length > 2 ? args[2] : null));
Console.WriteLine(JsonSerializer.Serialize(decision, new JsonSerializerOptions(JsonSerializerDefaults.Web)));

await host.StopAsync();
return decision.Allowed ? 0 : 1;
