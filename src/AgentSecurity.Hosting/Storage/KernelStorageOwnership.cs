using Azure;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Hosting.Storage;

/// <summary>
/// Claims the kernel's storage names for this service when the silo starts, and refuses to start on names another service
/// claimed first: two services given one prefix (by configuration, or by a prefix made alike) would share tenants,
/// grants, access rights and audit logs. The claim is a blob <c>owner</c> holding the service id, in the issuers'
/// container.
/// </summary>
internal sealed class KernelStorageOwnership(KernelStorage storage) : ILifecycleParticipant<ISiloLifecycle>
{
    public const string BlobName = "owner";

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(KernelStorageOwnership), ServiceLifecycleStage.RuntimeInitialize, ClaimAsync);

    public async Task ClaimAsync(CancellationToken cancellation)
    {
        var container = storage.Blobs.GetBlobContainerClient(storage.Names.IssuersContainer);
        await container.CreateIfNotExistsAsync(cancellationToken: cancellation);
        var owner = container.GetBlobClient(BlobName);
        try
        {
            await owner.UploadAsync(BinaryData.FromString(storage.ServiceId), overwrite: false, cancellation);
            return;
        }
        catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.BlobAlreadyExists)
        {
            // Claimed already: by this service (a restart, another silo) or by another.
        }

        var claimed = (await owner.DownloadContentAsync(cancellation)).Value.Content.ToString();
        if (!string.Equals(claimed, storage.ServiceId, StringComparison.Ordinal))
        {
            throw new OptionsValidationException(AgentSecurityStorageOptions.SectionName, typeof(AgentSecurityStorageOptions),
            [
                $"the kernel's storage names with prefix \"{storage.Names.Prefix}\" hold the state of service \"{claimed}\", not of this silo's service \"{storage.ServiceId}\": " +
                $"set {AgentSecurityStorageOptions.SectionName}:NamePrefix to a prefix of this service's own",
            ]);
        }
    }
}
