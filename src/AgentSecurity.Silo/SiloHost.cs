using System.Net;
using System.Net.Sockets;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Hosting;
using AgentSecurity.Hosting.Http;
using AgentSecurity.Hosting.Mcp;
using AgentSecurity.Hosting.Storage;
using Azure.Data.Tables;
using AgentSecurity.Tls;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;

namespace AgentSecurity.Silo;

/// <summary>
/// The whole silo on an ASP.NET Core host: Orleans with Azure Storage, the kernel, the Orleans dashboard,
/// Prometheus metrics and a health endpoint, all on loopback unless configured (<c>Silo:ListenOnAnyAddress</c>, or a pod
/// of Kubernetes with <c>Silo:KubernetesHosting</c>).
/// </summary>
public static class SiloHost
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Configuration.AddInMemoryCollection(EnvironmentAliases.FromEnvironment());
        builder.Configuration.AddCommandLine(args);

        var host = builder.Configuration.GetSection(SiloHostOptions.SectionName).Get<SiloHostOptions>() ?? new SiloHostOptions();
        builder.Services.AddOptions<SiloHostOptions>().BindConfiguration(SiloHostOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        if (host.KubernetesHosting)
        {
            // Checked here, not with the options at start: starting constructs the silo's details and the Kubernetes client
            // before options are validated, so Orleans' own complaint (or a client failing outside a cluster) would come
            // first and this one never.
            KubernetesHostingValidator.ThrowIfInvalid(host, Environment.GetEnvironmentVariable);
        }

        if (host.ListenOnAnyAddress)
        {
            // Beyond loopback the HTTP port carries bearer sessions: HTTPS with the silo's certificate, which a silo that
            // listens beyond loopback must have (it refuses to start without TLS).
            // Kestrel binds before the options are validated at start: reading them here refuses missing TLS settings with
            // the validator's own message.
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(host.HttpPort, listen =>
            {
                _ = kestrel.ApplicationServices.GetRequiredService<IOptions<SiloTlsOptions>>().Value;
                listen.UseHttps(kestrel.ApplicationServices.GetService<ClusterCertificates>()?.Certificate
                    ?? throw new InvalidOperationException($"{SiloTlsOptions.SectionName}: an HTTP port beyond loopback needs the silo's TLS certificate"));
            }));
        }
        else
        {
            builder.WebHost.UseUrls($"http://127.0.0.1:{host.HttpPort}");
        }

        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = host.ClusterId;
                o.ServiceId = host.ServiceId;
            });
            if (host.KubernetesHosting)
            {
                silo.UseAgentSecurityKubernetesHosting(host);
            }
            else if (IPAddress.TryParse(host.AdvertisedHost, out var address))
            {
                silo.ConfigureEndpoints(address, host.SiloPort, host.GatewayPort, listenOnAnyHostAddress: host.ListenOnAnyAddress);
            }
            else
            {
                silo.ConfigureEndpoints(host.AdvertisedHost, host.SiloPort, host.GatewayPort, AddressFamily.InterNetwork, listenOnAnyHostAddress: host.ListenOnAnyAddress);
            }

            silo.UseAgentSecurityTls(host);
            // Bounded retries as for the kernel's own storage. A storage outage alone never makes silos declare each other
            // dead: they probe each other directly, and a declaration is itself a write to this table.
            silo.UseAzureStorageClustering(o => o.TableServiceClient = new TableServiceClient(host.Storage, StorageRetry.Bounded(new TableClientOptions())));
            silo.UseAgentSecurityAzureStorage(host.Storage);
            silo.AddAgentSecurity();
            silo.AddAgentSecuritySandboxes();
            silo.AddDashboard();
        });

        builder.AddSiloTelemetry();
        // Storage that does not answer makes the silo degraded (still HTTP 200), not unhealthy: the probes of
        // deploy/kubernetes restart silos on failure, which would not bring storage back.
        builder.Services.AddHealthChecks().AddCheck<ClusterHealthCheck>("cluster").AddCheck<StorageHealthCheck>("storage", HealthStatus.Degraded);
        builder.Services.AddAgentSecurityHttp(builder.Configuration);
        builder.Services.AddAgentSecurityMcp(builder.Configuration);

        var app = builder.Build();
        var auditKey = app.Services.GetRequiredService<AuditKey>();

        app.MapGet("/", () => Results.Redirect("/dashboard/"));
        app.MapGet("/audit/did", () => Results.Text(auditKey.Key.Did.Value));
        app.MapOrleansDashboard(routePrefix: "/dashboard");
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapHealthChecks("/healthz");
        app.MapAgentSecurityHttp();
        app.MapAgentSecurityMcp();
        return app;
    }
}
