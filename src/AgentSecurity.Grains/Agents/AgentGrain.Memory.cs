using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Memory;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;
using AgentSecurity.Grants.Quotas;
using AgentSecurity.Grants.Verification;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Agents;

/// <summary>The agent's own memory store.</summary>
public sealed partial class AgentGrain
{
    public async Task<MemoryResult> GetMemoryAsync(string key)
    {
        var decision = await DecideAuditedAsync(new CheckRequest("memory:read", key ?? string.Empty));
        if (!decision.Allowed)
        {
            return Memory(decision);
        }

        var value = await MemoryStoreAsync(() => _memory.GetAsync(_key, key!));
        return value.Failed ? Memory(value.Failure!) : Memory(decision, value: value.Result, found: value.Result is not null);
    }

    public async Task<MemoryResult> PutMemoryAsync(string key, byte[] value)
    {
        if (value is null)
        {
            return Memory(Decision.Deny(ReasonCodes.InvalidRequest, "a memory value is required"));
        }

        var decision = await DecideAuditedAsync(new CheckRequest("memory:write", key ?? string.Empty));
        if (!decision.Allowed)
        {
            return Memory(decision);
        }

        if (value.Length > _options.MaxMemoryValueBytes)
        {
            return Memory(Decision.Deny(ReasonCodes.QuotaExceeded, $"a memory value is at most {_options.MaxMemoryValueBytes} bytes", decision.GrantId));
        }

        var index = await MemoryIndexAsync();
        if (index is null)
        {
            return Memory(Decision.Deny(ReasonCodes.Unavailable, "the memory store could not be read", decision.GrantId));
        }

        var size = EntrySize(key!, value.Length);
        var existing = index.TryGetValue(key!, out var old) ? old : 0;
        if (await MemoryLimitFailureAsync(size - existing, existing == 0 ? 1 : 0) is { } tooMuch)
        {
            return Memory(Decision.Deny(tooMuch.Code, tooMuch.Message, decision.GrantId));
        }

        var stored = await MemoryStoreAsync(async () =>
        {
            await _memory.PutAsync(_key, key!, value);
            return true;
        });
        if (stored.Failed)
        {
            return Memory(stored.Failure!);
        }

        index[key!] = size;
        return Memory(decision, found: existing != 0);
    }

    public async Task<MemoryResult> DeleteMemoryAsync(string key)
    {
        var decision = await DecideAuditedAsync(new CheckRequest("memory:delete", key ?? string.Empty));
        if (!decision.Allowed)
        {
            return Memory(decision);
        }

        var index = await MemoryIndexAsync();
        if (index is null)
        {
            return Memory(Decision.Deny(ReasonCodes.Unavailable, "the memory store could not be read", decision.GrantId));
        }

        if (!index.ContainsKey(key!))
        {
            return Memory(decision, found: false);
        }

        var deleted = await MemoryStoreAsync(async () =>
        {
            await _memory.DeleteAsync(_key, key!);
            return true;
        });
        if (deleted.Failed)
        {
            return Memory(deleted.Failure!);
        }

        index.Remove(key!);
        return Memory(decision, found: true);
    }

    public async Task<MemoryResult> ListMemoryAsync(string? prefix)
    {
        var now = _time.GetUtcNow();
        if (prefix is not null && !ResourceNames.IsNormal(prefix, ResourceKind.Key))
        {
            return Memory(Decision.Deny(ReasonCodes.InvalidResource, $"\"{prefix}\" is not a memory key in normal form"));
        }

        // Listing needs the read level; which keys show is decided per key by the read scope.
        var gate = _permissions.Decide(new CheckRequest("memory:read", prefix), now, _key);
        if (!gate.Allowed && gate.Reason != ReasonCodes.OutOfScope)
        {
            return Memory(await AuditedAsync(new CheckRequest("memory:read", prefix), gate));
        }

        var metered = await AuditedAsync(new CheckRequest("memory:read", prefix), await DecideAndMeterListing(now, gate));
        if (!metered.Allowed)
        {
            return Memory(metered);
        }

        var index = await MemoryIndexAsync();
        if (index is null)
        {
            return Memory(Decision.Deny(ReasonCodes.Unavailable, "the memory store could not be read", metered.GrantId));
        }

        var keys = index.Keys
            .Where(k => prefix is null || k == prefix || k.StartsWith(prefix + "/", StringComparison.Ordinal))
            .Where(k => _permissions.Decide(new CheckRequest("memory:read", k), now, _key).Allowed)
            .Order(StringComparer.Ordinal)
            .ToArray();
        return Memory(metered, keys: keys);
    }

    /// <summary>Meters a listing like one read check, whatever the scopes (the keys shown are filtered by them).</summary>
    private async Task<Decision> DecideAndMeterListing(DateTimeOffset now, Decision gate)
    {
        if (gate.Allowed)
        {
            return await DecideAndMeter(new CheckRequest("memory:read", null), now) is { Allowed: true } metered ? metered : gate;
        }

        var plan = _quotas.Plan(CheckKind.MemoryRead, null, now);
        if (plan.DenialReason is not null)
        {
            return Decision.Deny(plan.DenialReason, plan.DenialMessage!, gate.GrantId);
        }

        var allowed = new Decision { Allowed = true, Reason = ReasonCodes.Allowed, Message = "listing the readable keys", GrantId = gate.GrantId };
        return plan.NeedsAwait ? await MeterSlowAsync(allowed, CheckKind.MemoryRead, null, now) : Commit(plan, allowed, now);
    }

    private Decision Commit(MeterPlan plan, Decision allowed, DateTimeOffset now)
    {
        CommitQuotas(plan, now);
        return allowed;
    }

    /// <summary>Whether adding bytes (and keys) keeps the agent's memory within its limits.</summary>
    private async Task<Failure?> MemoryLimitFailureAsync(long addedBytes, int keysAdded) =>
        await MemoryIndexAsync() is { } index
            ? MemoryLimitFailure(index, addedBytes, keysAdded)
            : new Failure(ReasonCodes.Unavailable, "the memory store could not be read");

    private Failure? MemoryLimitFailure(Dictionary<string, long> index, long addedBytes, int keysAdded)
    {
        var limit = _platform.Effective("memoryBytesStored", _permissions.Active?.Limits.MemoryBytesStored) ?? _options.MaxMemoryBytesPerAgent;
        var used = index.Values.Sum();
        if (used + addedBytes > limit)
        {
            return new Failure(ReasonCodes.QuotaExceeded, $"memoryBytesStored ({limit}) leaves {Math.Max(0, limit - used)} bytes; this needs {addedBytes}");
        }

        return index.Count + keysAdded > _options.MaxMemoryKeys
            ? new Failure(ReasonCodes.QuotaExceeded, $"an agent's memory holds at most {_options.MaxMemoryKeys} keys")
            : null;
    }

    private async Task<Dictionary<string, long>?> MemoryIndexAsync()
    {
        if (_memoryIndex is null)
        {
            var listed = await MemoryStoreAsync(() => _memory.ListAsync(_key));
            _memoryIndex = listed.Failed ? null : listed.Result!.ToDictionary(p => p.Key, p => EntrySize(p.Key, p.Value), StringComparer.Ordinal);
        }

        return _memoryIndex;
    }

    /// <summary>A key's bytes count as well as its value's.</summary>
    private static long EntrySize(string key, long valueBytes) => System.Text.Encoding.UTF8.GetByteCount(key) + valueBytes;

    private async Task<(bool Failed, T? Result, Decision? Failure)> MemoryStoreAsync<T>(Func<Task<T>> operation)
    {
        try
        {
            return (false, await operation(), null);
        }
#pragma warning disable CA1031 // A store failure is an unavailable answer, never an exception to the agent.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.MemoryStoreFailed(_logger, e, _key);
            _memoryIndex = null; // read again next time: the store's truth may differ now
            return (true, default, Decision.Deny(ReasonCodes.Unavailable, "the memory store failed", _permissions.Active?.GrantId));
        }
    }

    private MemoryResult Memory(Decision decision, byte[]? value = null, IReadOnlyList<string>? keys = null, bool found = false) => new()
    {
        Decision = decision,
        Value = value,
        Keys = keys,
        Found = found,
        StoredBytes = _memoryIndex?.Values.Sum() ?? 0,
    };
}
