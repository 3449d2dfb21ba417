using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace AgentSecurity.Hosting.Storage;

/// <summary>Refuses, when the silo starts, storage settings that give no service or no valid name prefix.</summary>
internal sealed class KernelStorageValidator(IOptions<ClusterOptions> cluster) : IValidateOptions<AgentSecurityStorageOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentSecurityStorageOptions options) =>
        Failures(options, cluster.Value.ServiceId) is { Count: > 0 } failures ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;

    /// <summary>Why these settings give the kernel no storage; empty when they do. <see cref="KernelStorage"/> asks the same.</summary>
    public static List<string> Failures(AgentSecurityStorageOptions options, string serviceId)
    {
        var failures = new List<string>();
        if (StorageNamePrefix.Resolve(options.NamePrefix, serviceId).Error is { } prefix)
        {
            failures.Add(prefix);
        }

        var hasConnectionString = !string.IsNullOrEmpty(options.ConnectionString);
        foreach (var (service, given) in new[]
        {
            ("table", options.TableServiceClient is not null || options.TableServiceUri is not null),
            ("blob", options.BlobServiceClient is not null || options.BlobServiceUri is not null),
            ("queue", options.QueueServiceClient is not null || options.QueueServiceUri is not null),
        })
        {
            if (!given && !hasConnectionString)
            {
                failures.Add($"{AgentSecurityStorageOptions.SectionName}: no {service} service (a service client, a {service} service URI, or a ConnectionString)");
            }
        }

        return failures;
    }
}
