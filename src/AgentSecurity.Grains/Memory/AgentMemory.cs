using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Agents;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Grains.Permissions;
using AgentSecurity.Grains.Quotas;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Policy;

namespace AgentSecurity.Grains.Memory;

/// <summary>
/// An agent's own memory store: every operation is a check on the agent (<c>memory:read|write|delete</c> on the key)
/// before it touches the store, and the store's size is held to <c>memoryBytesStored</c> and a number of keys. The
/// agent's keys with their sizes are read once, on the first operation that needs them.
/// </summary>
internal sealed class AgentMemory(
    AgentContext agent,
    IAgentMemoryStore store,
    PlatformLimits platform,
    AgentPermissions permissions,
    AgentAudit audit,
    AgentMetering metering,
    IAgentDecisions decisions)
{
    // The agent's keys with their sizes; null until read, and again after the store failed.
    private Dictionary<string, long>? _index;

    public async Task<MemoryResult> GetAsync(string? key)
    {
        var decision = await decisions.DecideAsync(new CheckRequest(CheckKind.MemoryRead.Name(), key ?? string.Empty));
        if (!decision.Allowed)
        {
            return Result(decision);
        }

        return (await StoreAsync(() => store.GetAsync(agent.Key, key!))).TryGetValue(out var value, out var failure)
            ? Result(decision, value: value, found: value is not null)
            : Result(failure);
    }

    public async Task<MemoryResult> PutAsync(string? key, byte[]? value)
    {
        if (value is null)
        {
            return Result(Decision.Deny(ReasonCodes.InvalidRequest, "a memory value is required"));
        }

        var decision = await decisions.DecideAsync(new CheckRequest(CheckKind.MemoryWrite.Name(), key ?? string.Empty));
        if (!decision.Allowed)
        {
            return Result(decision);
        }

        if (value.Length > agent.Options.MaxMemoryValueBytes)
        {
            return Result(Decision.Deny(ReasonCodes.QuotaExceeded, $"a memory value is at most {agent.Options.MaxMemoryValueBytes} bytes", decision.GrantId));
        }

        if (await IndexAsync() is not { } index)
        {
            return Result(Unreadable(decision));
        }

        var size = EntrySize(key!, value.Length);
        var existing = index.GetValueOrDefault(key!);
        if (LimitFailure(index, size - existing, existing == 0 ? 1 : 0) is { } tooMuch)
        {
            return Result(Decision.Deny(tooMuch.Code, tooMuch.Message, decision.GrantId));
        }

        var stored = await StoreAsync(async () =>
        {
            await store.PutAsync(agent.Key, key!, value);
            return true;
        });
        if (!stored.Succeeded)
        {
            return Result(stored.Failure);
        }

        index[key!] = size;
        return Result(decision, found: existing != 0);
    }

    public async Task<MemoryResult> DeleteAsync(string? key)
    {
        var decision = await decisions.DecideAsync(new CheckRequest(CheckKind.MemoryDelete.Name(), key ?? string.Empty));
        if (!decision.Allowed)
        {
            return Result(decision);
        }

        if (await IndexAsync() is not { } index)
        {
            return Result(Unreadable(decision));
        }

        if (!index.ContainsKey(key!))
        {
            return Result(decision, found: false);
        }

        var deleted = await StoreAsync(async () =>
        {
            await store.DeleteAsync(agent.Key, key!);
            return true;
        });
        if (!deleted.Succeeded)
        {
            return Result(deleted.Failure);
        }

        index.Remove(key!);
        return Result(decision, found: true);
    }

    /// <summary>
    /// The keys under a prefix that the agent may read. Listing needs the read level and is metered like one read; which
    /// keys show is decided per key by the read scopes, so a prefix outside them lists nothing rather than failing.
    /// </summary>
    public async Task<MemoryResult> ListAsync(string? prefix)
    {
        var now = agent.Now;
        var request = new CheckRequest(CheckKind.MemoryRead.Name(), prefix);
        if (prefix is not null && !ResourceNames.IsNormal(prefix, ResourceKind.Key))
        {
            return Result(Decision.Deny(ReasonCodes.InvalidResource, $"\"{prefix}\" is not a memory key in normal form"));
        }

        var gate = permissions.Decide(CheckKind.MemoryRead, prefix, now, agent.Key);
        if (!gate.Allowed && gate.Reason != ReasonCodes.OutOfScope)
        {
            return Result(await audit.RecordAsync(request, gate));
        }

        var allowed = gate.Allowed ? gate : new Decision { Allowed = true, Reason = ReasonCodes.Allowed, Message = "listing the readable keys", GrantId = gate.GrantId };
        var metered = await audit.RecordAsync(request, await metering.MeterAsync(allowed, CheckKind.MemoryRead, null, now));
        if (!metered.Allowed)
        {
            return Result(metered);
        }

        if (await IndexAsync() is not { } index)
        {
            return Result(Unreadable(metered));
        }

        var keys = index.Keys
            .Where(k => prefix is null || k == prefix || k.StartsWith(prefix + "/", StringComparison.Ordinal))
            .Where(k => permissions.Decide(CheckKind.MemoryRead, k, now, agent.Key).Allowed)
            .Order(StringComparer.Ordinal)
            .ToArray();
        return Result(metered, keys: keys);
    }

    /// <summary>Whether a check's memory write of <paramref name="bytes"/> (a new key's worth) stays within the limits.</summary>
    public ValueTask<Failure?> CheckWriteAsync(long bytes) => _index is { } index
        ? ValueTask.FromResult(LimitFailure(index, bytes, keysAdded: 0))
        : CheckWriteSlowAsync(bytes);

    private async ValueTask<Failure?> CheckWriteSlowAsync(long bytes) => await IndexAsync() is { } index
        ? LimitFailure(index, bytes, keysAdded: 0)
        : new Failure(ReasonCodes.Unavailable, "the memory store could not be read");

    private Failure? LimitFailure(Dictionary<string, long> index, long addedBytes, int keysAdded)
    {
        var limit = platform.Effective("memoryBytesStored", permissions.Active?.Limits.MemoryBytesStored) ?? agent.Options.MaxMemoryBytesPerAgent;
        var used = StoredBytes(index);

        // Compared without adding: a check names its own amount, and long.MaxValue added to what is stored would wrap
        // to a negative total that fits any limit.
        if (addedBytes > limit - used)
        {
            return new Failure(ReasonCodes.QuotaExceeded, $"memoryBytesStored ({limit}) leaves {Math.Max(0, limit - used)} bytes; this needs {addedBytes}");
        }

        return index.Count + keysAdded > agent.Options.MaxMemoryKeys
            ? new Failure(ReasonCodes.QuotaExceeded, $"an agent's memory holds at most {agent.Options.MaxMemoryKeys} keys")
            : null;
    }

    /// <summary>What the agent stores, in bytes: at most <see cref="long.MaxValue"/>, however large what the store reports.</summary>
    private static long StoredBytes(Dictionary<string, long> index)
    {
        long used = 0;
        foreach (var size in index.Values)
        {
            used = Saturating.Add(used, Math.Max(0, size));
        }

        return used;
    }

    private async Task<Dictionary<string, long>?> IndexAsync()
    {
        if (_index is null)
        {
            var listed = await StoreAsync(() => store.ListAsync(agent.Key));
            _index = listed.TryGetValue(out var entries) ? entries.ToDictionary(p => p.Key, p => EntrySize(p.Key, p.Value), StringComparer.Ordinal) : null;
        }

        return _index;
    }

    /// <summary>A key's bytes count as well as its value's.</summary>
    private static long EntrySize(string key, long valueBytes) => System.Text.Encoding.UTF8.GetByteCount(key) + valueBytes;

    private static Decision Unreadable(Decision decision) => Decision.Deny(ReasonCodes.Unavailable, "the memory store could not be read", decision.GrantId);

    private async Task<Result<T>> StoreAsync<T>(Func<Task<T>> operation)
    {
        try
        {
            return Result<T>.Ok(await operation());
        }
#pragma warning disable CA1031 // A store failure is an unavailable answer, never an exception to the agent.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.MemoryStoreFailed(agent.Logger, e, agent.Key);
            _index = null; // read again next time: the store's truth may differ now
            return new Failure(ReasonCodes.Unavailable, "the memory store failed");
        }
    }

    private MemoryResult Result(Failure failure) => Result(Decision.Deny(failure.Code, failure.Message, permissions.Active?.GrantId));

    private MemoryResult Result(Decision decision, byte[]? value = null, IReadOnlyList<string>? keys = null, bool found = false) => new()
    {
        Decision = decision,
        Value = value,
        Keys = keys,
        Found = found,
        StoredBytes = _index is { } index ? StoredBytes(index) : 0,
    };
}
