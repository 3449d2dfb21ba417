using AgentSecurity.Grains.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AgentSecurity.Silo;

/// <summary>
/// The silo's telemetry: its metrics on Prometheus <c>/metrics</c> always, and, when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>
/// is set, metrics, the kernel's traces and the logs to that collector (the exporter's own <c>OTEL_EXPORTER_OTLP_*</c>
/// settings: <c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c> for a collector's port 4318). Without an endpoint nothing
/// listens to the kernel's spans, so they cost nothing.
/// </summary>
internal static class SiloTelemetry
{
    public const string ServiceName = "agentsec-silo";

    public const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static void AddSiloTelemetry(this WebApplicationBuilder builder)
    {
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource
                .AddService(ServiceName, serviceVersion: typeof(SiloTelemetry).Assembly.GetName().Version?.ToString(), autoGenerateServiceInstanceId: false)
                .AddDetector(services => new SiloResourceDetector(services)))
            .WithMetrics(metrics => metrics
                .AddMeter(AgentSecurityMetrics.MeterName, "Microsoft.Orleans")
                .AddPrometheusExporter());
        if (string.IsNullOrWhiteSpace(builder.Configuration[EndpointVariable]))
        {
            return;
        }

        // The exporter reads its endpoint, protocol, headers and batching from the OTEL_* variables itself.
        telemetry
            .WithTracing(tracing => tracing.AddSource(KernelTracing.SourceName))
            .WithLogging()
            .UseOtlpExporter();
    }
}
