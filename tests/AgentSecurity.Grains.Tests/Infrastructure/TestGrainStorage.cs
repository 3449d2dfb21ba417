using System.Collections.Concurrent;
using System.Text.Json;
using Orleans.Storage;

namespace AgentSecurity.Grains.Tests.Infrastructure;

/// <summary>
/// In-memory grain storage shared by the test cluster's silos. Grain logic tests use it instead of Azurite for
/// speed and control: state goes through System.Text.Json as it does in Azure Table storage, ETags are enforced,
/// and writes for chosen grains can be made to fail. Durability on real storage is the integration tests' job.
/// </summary>
public sealed class TestGrainStorage : IGrainStorage
{
    public static readonly TestGrainStorage Shared = new();

    private readonly ConcurrentDictionary<string, (string Json, string ETag)> _records = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _failingWrites = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _writes = new(StringComparer.Ordinal);
    private long _etag;

    private readonly ConcurrentDictionary<string, (TaskCompletionSource Entered, Task Release)> _held = new(StringComparer.Ordinal);

    public int WriteCount(string grainKey) => _writes.GetValueOrDefault(grainKey);

    /// <summary>
    /// Holds the next write of a grain until <paramref name="release"/> completes; the returned task completes when
    /// that write has started. Lets a test act while a grain is in the middle of storing.
    /// </summary>
    public Task HoldNextWriteOf(string grainKey, Task release)
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _held[grainKey] = (entered, release);
        return entered.Task;
    }

    /// <summary>Makes every write of the grain with this key fail, as an unreachable storage account would.</summary>
    public void FailWritesOf(string grainKey) => _failingWrites[grainKey] = true;

    public bool Has(string stateName, string grainKey) => _records.ContainsKey(Key(stateName, grainKey));

    public string? Read(string stateName, string grainKey) => _records.TryGetValue(Key(stateName, grainKey), out var r) ? r.Json : null;

    /// <summary>Writes a record behind the cluster's back, as someone with access to the storage account could.</summary>
    public void Tamper(string stateName, string grainKey, string json) =>
        _records[Key(stateName, grainKey)] = (json, NextETag());

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_records.TryGetValue(Key(stateName, grainId), out var record))
        {
            grainState.State = JsonSerializer.Deserialize<T>(record.Json)!;
            grainState.ETag = record.ETag;
            grainState.RecordExists = true;
        }

        return Task.CompletedTask;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var grainKey = grainId.Key.ToString()!;
        if (_held.TryRemove(grainKey, out var hold))
        {
            hold.Entered.SetResult();
            await hold.Release;
        }

        if (_failingWrites.ContainsKey(grainKey))
        {
            throw new IOException($"injected storage failure for {grainKey}");
        }

        var key = Key(stateName, grainId);
        var current = _records.TryGetValue(key, out var record) ? record.ETag : null;
        if (current != grainState.ETag)
        {
            throw new InconsistentStateException($"ETag mismatch for {key}", current, grainState.ETag);
        }

        var etag = NextETag();
        _records[key] = (JsonSerializer.Serialize(grainState.State), etag);
        _writes.AddOrUpdate(grainKey, 1, (_, n) => n + 1);
        grainState.ETag = etag;
        grainState.RecordExists = true;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        _records.TryRemove(Key(stateName, grainId), out _);
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private static string Key(string stateName, GrainId grainId) => Key(stateName, grainId.Key.ToString()!);

    private static string Key(string stateName, string grainKey) => $"{stateName}|{grainKey}";

    private string NextETag() => Interlocked.Increment(ref _etag).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
