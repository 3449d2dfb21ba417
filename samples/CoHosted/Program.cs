// A platform's silo that hosts the security kernel beside its own grain.
//   CoHosted NOTE            adds NOTE to the platform's desk, prints every note as JSON, and stops
//   CoHosted NOTE --serve    the same, then serves (gateway and kernel) until stopped (Ctrl-C, SIGTERM)
// Settings (environment): STORAGE (an Azure Storage connection string; default the local emulator), SILO_PORT,
// GATEWAY_PORT (11111, 30000), OPERATOR_DID (who may create tenants), AUDIT_KEY (the audit key file; required outside
// the Development environment).
using System.Text.Json;
using AgentSecurity.Hosting;
using Azure.Data.Tables;
using CoHosted;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var storage = Environment.GetEnvironmentVariable("STORAGE") ?? "UseDevelopmentStorage=true";
var siloPort = int.Parse(Environment.GetEnvironmentVariable("SILO_PORT") ?? "11111");
var gatewayPort = int.Parse(Environment.GetEnvironmentVariable("GATEWAY_PORT") ?? "30000");

var builder = Host.CreateApplicationBuilder(args);
// Standard output is the notes alone; the log goes to standard error.
builder.Logging.ClearProviders().AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning);
builder.Configuration["AgentSecurity:Audit:KeyFile"] = Environment.GetEnvironmentVariable("AUDIT_KEY");
builder.UseOrleans(silo =>
{
    // The platform's, as before the kernel came.
    silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: "platform", clusterId: "platform");
    silo.AddAzureTableGrainStorageAsDefault(o => o.TableServiceClient = new TableServiceClient(storage));

    // The kernel.
    silo.AddAgentSecurity(o => o.OperatorDid = Environment.GetEnvironmentVariable("OPERATOR_DID") ?? throw new InvalidOperationException("OPERATOR_DID is not set"));
    silo.UseAgentSecurityAzureStorage(storage);
});

using var host = builder.Build();
await host.StartAsync();
var notes = await host.Services.GetRequiredService<IGrainFactory>().GetGrain<IDeskGrain>("desk").AddAsync(args[0]);
Console.WriteLine(JsonSerializer.Serialize(notes));

if (args.Contains("--serve"))
{
    Console.WriteLine($"serving on gateway {gatewayPort}");
    await host.WaitForShutdownAsync();
}
else
{
    await host.StopAsync();
}
