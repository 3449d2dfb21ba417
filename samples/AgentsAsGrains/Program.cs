// A platform's silo: its own grain hosts an agent per tenant/agent, beside the security kernel; the agent's tool and model
// calls go through the agent-framework guard (docs/agent-frameworks.md).
//   AgentsAsGrains     sets up a tenant and a grant, runs the agent once, prints what was allowed and refused, and stops
// Settings (environment): STORAGE (an Azure Storage connection string; default the local emulator), SILO_PORT,
// GATEWAY_PORT (11111, 30000), AUDIT_KEY (the audit key file; required outside the Development environment).
using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Client;
using AgentSecurity.Client.Sessions;
using AgentSecurity.Grants.Crypto;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Json;
using AgentSecurity.Hosting;
using AgentsAsGrains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

const string ServiceId = "platform";
var storage = Environment.GetEnvironmentVariable("STORAGE") ?? "UseDevelopmentStorage=true";
var siloPort = int.Parse(Environment.GetEnvironmentVariable("SILO_PORT") ?? "11111");
var gatewayPort = int.Parse(Environment.GetEnvironmentVariable("GATEWAY_PORT") ?? "30000");

// The sample plays every role: the operator who creates the tenant, and the platform, whose key is the tenant's root.
// A real platform keeps its key in a secret store and has grants signed by the tenant's admins (agentsec grant sign).
var operatorKey = SigningKey.Generate();
var platformKey = SigningKey.Generate();

var builder = Host.CreateApplicationBuilder(args);
// Standard output is the agent's transcript alone; the log goes to standard error.
builder.Logging.ClearProviders().AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning);
builder.Configuration["AgentSecurity:Audit:KeyFile"] = Environment.GetEnvironmentVariable("AUDIT_KEY");
builder.Services.AddSingleton(new PlatformSession(new ClientSession(platformKey, ServiceId)));
builder.UseOrleans(silo =>
{
    silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: ServiceId, clusterId: ServiceId);
    silo.AddAgentSecurity(o => o.OperatorDid = operatorKey.Did.Value);
    silo.UseAgentSecurityAzureStorage(storage);
});

using var host = builder.Build();
await host.StartAsync();
var grains = host.Services.GetRequiredService<IGrainFactory>();
var kernel = new AgentSecurityClient(host.Services.GetRequiredService<IClusterClient>());

// A tenant of this run, and a grant for its agent: two of the three functions, files under /workspace, 100,000 tokens an hour.
var tenant = $"acme{Guid.NewGuid():N}"[..12];
var now = DateTimeOffset.UtcNow;
using (CallerContext.UseSession(new ClientSession(operatorKey, ServiceId).Current))
{
    var created = await kernel.CreateTenantAsync(new DocumentSigner(DocumentTypes.Tenant)
        .Add("tenantId", tenant).Add("rootDids", DocumentSigner.StringArray([platformKey.Did.Value])).Add("issuedAt", now).Sign(operatorKey));
    Require(created.Created, $"tenant: {created.Error} {created.Message}");
}

using (CallerContext.UseSession(new ClientSession(platformKey, ServiceId).Current))
{
    var grant = new DocumentSigner(DocumentTypes.GrantV2)
        .Add("grantId", "helper-1").Add("tenantId", tenant).Add("agentId", "helper")
        .Add("capabilities", Json("""{"fileSystem":"read","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":true,"tools":["local/get_weather","local/read_file"]}"""))
        .Add("scopes", Json("""{"fileSystem":["/workspace/**"]}"""))
        .Add("resourceLimits", Json("""{"llmTokensPerHour":100000}"""))
        .Add("environmentIsolation", "sandboxed").Add("issuedAt", now.AddMinutes(-1)).Add("expiresAt", now.AddHours(1))
        .Sign(platformKey);
    var applied = await kernel.ApplyGrantAsync(grant);
    Require(applied.Applied, $"grant: {applied.Error} {applied.Message}");
}

var assistant = grains.GetGrain<IAssistantGrain>(AgentKey.Of(tenant, "helper"));
foreach (var line in await assistant.AskAsync("What is the weather, and what is in my notes?"))
{
    Console.WriteLine(line);
}

var (guarded, unguarded) = await assistant.MeasureAsync(calls: 20);
Console.Error.WriteLine($"per tool call: {guarded:F2} ms guarded, {unguarded:F3} ms unguarded (+{guarded - unguarded:F2} ms)");
await host.StopAsync();

static JNode Json(string text) => StrictJsonParser.Parse(text).Value;

static void Require(bool ok, string message)
{
    if (!ok)
    {
        throw new InvalidOperationException(message);
    }
}
