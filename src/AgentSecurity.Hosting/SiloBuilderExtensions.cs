using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Grains.Boundary;
using AgentSecurity.Grains.Execution;
using AgentSecurity.Grains.Memory;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Sandbox;
using AgentSecurity.Sandbox.JavaScript;
using AgentSecurity.Sandbox.Processes;
using AgentSecurity.Sandbox.Wasm;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;

namespace AgentSecurity.Hosting;

public static class SiloBuilderExtensions
{
    /// <summary>
    /// Adds the security kernel's settings (section <c>AgentSecurity</c>, then <paramref name="configure"/>), validated
    /// when the silo starts. The kernel's clock is the <see cref="KernelClock"/> service.
    /// Grain storage is separate: <see cref="UseAgentSecurityAzureStorage"/>, or a memory provider in tests.
    /// </summary>
    public static ISiloBuilder AddAgentSecurity(this ISiloBuilder silo, Action<AgentSecurityOptions>? configure = null)
    {
        var options = silo.Services.AddOptions<AgentSecurityOptions>().Bind(silo.Configuration.GetSection(AgentSecurityOptions.SectionName));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        silo.Services.AddSingleton<IValidateOptions<AgentSecurityOptions>, AgentSecurityOptionsValidator>();
        silo.Services.AddOptions<AuditOptions>().Bind(silo.Configuration.GetSection(AuditOptions.SectionName)).ValidateOnStart();
        silo.Services.AddSingleton<IValidateOptions<AuditOptions>, AuditOptionsValidator>();
        silo.Services.AddMetrics();
        silo.Services.AddSingleton<AgentSecurityMetrics>();
        silo.Services.AddSingleton<AuditKey>();
        silo.Services.AddSingleton<AuditEvents>();
        silo.Services.AddOptions<SandboxOptions>().Bind(silo.Configuration.GetSection(SandboxOptions.SectionName)).ValidateOnStart();
        silo.Services.AddSingleton<IValidateOptions<SandboxOptions>, SandboxOptionsValidator>();
        silo.Services.AddSingleton<ExecutionServices>();
        silo.Services.AddSingleton(services => ExecutionLimits.Platform(
            services.GetRequiredService<IOptions<SandboxOptions>>().Value, services.GetRequiredService<IOptions<AgentSecurityOptions>>().Value));
        silo.Services.AddHostedService<WorkspaceJanitor>();
        silo.Services.AddSingleton<ISandboxRuntime>(_ => new WasmRuntime());
        silo.Services.AddSingleton<ISandboxRuntime>(_ => new JavaScriptRuntime());
        silo.Services.AddSingleton<ISandboxRuntime>(services => new ProcessRuntime(new ProcessRuntimeOptions
        {
            ScratchRoot = Path.Combine(services.GetRequiredService<IOptions<SandboxOptions>>().Value.WorkspaceRoot, ".exec"),
        }));
        silo.Services.AddHttpClient<ILlmProvider, OpenAiCompatibleLlmProvider>();
        silo.AddAgentSecurityBoundary();
        silo.UseSystemTextJsonGrainStorageSerializer();
        return silo;
    }

    /// <summary>
    /// Azure Storage for everything durable: membership (Azure Table clustering), agent state (Azure Table, one small
    /// entity per agent), issuer state (Azure Blob: one per tenant, growing with its live grants) and agent memory
    /// (Azure Blob, one blob per key).
    /// </summary>
    public static ISiloBuilder UseAgentSecurityAzureStorage(this ISiloBuilder silo, string connectionString)
    {
        silo.UseAzureStorageClustering(o => o.TableServiceClient = new TableServiceClient(connectionString));
        silo.AddAzureTableGrainStorage(StorageNames.Grains, o =>
        {
            o.TableServiceClient = new TableServiceClient(connectionString);
            o.TableName = "agentsecgrains";
        });
        silo.AddAzureBlobGrainStorage(StorageNames.Issuers, o =>
        {
            o.BlobServiceClient = new BlobServiceClient(connectionString);
            o.ContainerName = "agentsec-issuers";
        });
        silo.Services.AddSingleton<IAgentMemoryStore>(new AzureBlobAgentMemoryStore(new BlobServiceClient(connectionString)));

        // Security events: Azure Queue streams, durable once a publish returns; batches of up to 256 messages reach
        // the audit grain in one delivery, which it appends in as few table transactions.
        silo.Services.AddSingleton<IAuditLogStore>(new AzureTableAuditLogStore(new TableServiceClient(connectionString)));
        silo.AddAzureTableGrainStorage("PubSubStore", (OptionsBuilder<AzureTableStorageOptions> options) => options.Configure<IServiceProvider>((o, services) =>
        {
            o.TableServiceClient = new TableServiceClient(connectionString);
            o.TableName = "agentsecstreams";

            // Orleans' pub-sub state binds members through constructors System.Text.Json cannot read back: without
            // this, a stream's subscriptions are unreadable once its rendezvous grain moves (after a silo dies).
            o.GrainStorageSerializer = new OrleansGrainStorageSerializer(services.GetRequiredService<Serializer>());
        }));
        silo.AddAzureQueueStreams(AuditStreams.ProviderName, stream =>
        {
            stream.ConfigureAzureQueue(o => o.Configure(q => q.QueueServiceClient = new QueueServiceClient(connectionString)));
            stream.ConfigurePullingAgent(o => o.Configure(p =>
            {
                p.BatchContainerBatchSize = 256;
                // An idle queue is polled this often; a queue with messages is read without pause. Every poll of the
                // eight queues is a storage request (80 a second for the cluster, on a quiet cluster too), and half the
                // period is the typical wait of an event on a quiet stream.
                p.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(100);
            }));
        });
        return silo;
    }
}
