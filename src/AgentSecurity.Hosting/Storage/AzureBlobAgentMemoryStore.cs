using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using AgentSecurity.Grains.Memory;
using AgentSecurity.Grants.Encoding;

namespace AgentSecurity.Hosting;

/// <summary>
/// Agent memory in Azure Blob storage: one blob per key, named <c>tenant/agent/base64url(key)</c>. The key is encoded,
/// so no key can name a path of its own: each agent's keys stay under its own prefix.
/// </summary>
public sealed class AzureBlobAgentMemoryStore(BlobServiceClient service, string containerName = "agentsec-memory") : IAgentMemoryStore
{
    private readonly BlobContainerClient _container = service.GetBlobContainerClient(containerName);
    private volatile bool _created;

    public async Task<IReadOnlyDictionary<string, long>> ListAsync(string agent, CancellationToken cancellation = default)
    {
        await EnsureContainerAsync(cancellation);
        var prefix = agent + "/";
        var keys = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var blob in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, cancellation))
        {
            if (Base64Url.TryDecode(blob.Name[prefix.Length..], out var key))
            {
                keys[System.Text.Encoding.UTF8.GetString(key)] = blob.Properties.ContentLength ?? 0;
            }
        }

        return keys;
    }

    public async Task<byte[]?> GetAsync(string agent, string key, CancellationToken cancellation = default)
    {
        await EnsureContainerAsync(cancellation);
        try
        {
            var content = await Blob(agent, key).DownloadContentAsync(cancellation);
            return content.Value.Content.ToArray();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async Task PutAsync(string agent, string key, byte[] value, CancellationToken cancellation = default)
    {
        await EnsureContainerAsync(cancellation);
        await Blob(agent, key).UploadAsync(new BinaryData(value), overwrite: true, cancellation);
    }

    public async Task DeleteAsync(string agent, string key, CancellationToken cancellation = default)
    {
        await EnsureContainerAsync(cancellation);
        await Blob(agent, key).DeleteIfExistsAsync(cancellationToken: cancellation);
    }

    private BlobClient Blob(string agent, string key) =>
        _container.GetBlobClient($"{agent}/{Base64Url.Encode(System.Text.Encoding.UTF8.GetBytes(key))}");

    private async Task EnsureContainerAsync(CancellationToken cancellation)
    {
        if (!_created)
        {
            await _container.CreateIfNotExistsAsync(cancellationToken: cancellation);
            _created = true;
        }
    }
}
