using System.Collections.Concurrent;
using System.Diagnostics;
using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Abstractions.Kernel;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Boundary;

/// <summary>
/// This silo's copy of who may call for each tenant, and of the operator's access documents for every tenant, asked of
/// the issuers when first needed. A change of callers (an access document applied or revoked, an admin registered, a
/// root rotated) reaches every silo's copy before the call that made it returns (<see cref="ICallerCacheObserver"/>);
/// a copy older than <see cref="BoundaryOptions.CallersLifetime"/> is read again in any case.
/// </summary>
internal sealed class CallerDirectory(IGrainFactory grains, IOptions<BoundaryOptions> options) : ICallerCacheObserver
{
    private const string Registry = "\0registry";

    private readonly ConcurrentDictionary<string, Task<CallerSnapshot>> _snapshots = new(StringComparer.Ordinal);
    private readonly BoundaryOptions _options = options.Value;

    // Counts the changes told to this silo: a read that started before one may hold what it changed, so it is not kept.
    private long _forgets;

    // Made once: a method group converted at each call would allocate a delegate on every authorized call.
    private Func<string, Task<CallerSnapshot>>? _loadTenant;
    private Func<string, Task<CallerSnapshot>>? _loadRegistry;

    public ValueTask<CallerSnapshot> TenantAsync(string tenant) => GetAsync(tenant, _loadTenant ??= LoadTenantAsync);

    public ValueTask<CallerSnapshot> RegistryAsync() => GetAsync(Registry, _loadRegistry ??= _ => LoadRegistryAsync());

    /// <summary>Forgets a tenant's callers (or, for <see cref="IAccessRegistryGrain.Key"/>, the operator's registry): the next call reads them again.</summary>
    public Task ForgetAsync(string tenant)
    {
        Interlocked.Increment(ref _forgets);
        _snapshots.TryRemove(tenant == IAccessRegistryGrain.Key ? Registry : tenant, out _);
        return Task.CompletedTask;
    }

    private ValueTask<CallerSnapshot> GetAsync(string key, Func<string, Task<CallerSnapshot>> load)
    {
        if (_snapshots.TryGetValue(key, out var cached))
        {
            if (!cached.IsCompleted)
            {
                return new ValueTask<CallerSnapshot>(cached); // a read under way: wait for it rather than start another
            }

            if (cached.IsCompletedSuccessfully && Stopwatch.GetElapsedTime(cached.Result.LoadedAt) < _options.CallersLifetime)
            {
                return ValueTask.FromResult(cached.Result);
            }
        }

        if (_snapshots.Count >= _options.TenantCacheSize)
        {
            Evict();
        }

        var forgets = Interlocked.Read(ref _forgets);
        var loading = load(key);
        _snapshots[key] = loading;
        if (Interlocked.Read(ref _forgets) != forgets)
        {
            _snapshots.TryRemove(KeyValuePair.Create(key, loading));
        }

        return new ValueTask<CallerSnapshot>(loading);
    }

    /// <summary>
    /// Drops the copies too old to be used and, if that is not enough, the older half: a flood of tenants never grows the
    /// silo, and costs the tenants in use no more than a read each.
    /// </summary>
    private void Evict()
    {
        var stale = _snapshots.Where(p => p.Value.IsCompleted && (!p.Value.IsCompletedSuccessfully || Stopwatch.GetElapsedTime(p.Value.Result.LoadedAt) >= _options.CallersLifetime)).ToList();
        foreach (var entry in stale)
        {
            _snapshots.TryRemove(entry);
        }

        if (_snapshots.Count >= _options.TenantCacheSize)
        {
            var older = _snapshots.Where(p => p.Value.IsCompletedSuccessfully).OrderBy(p => p.Value.Result.LoadedAt).Take(Math.Max(1, _snapshots.Count / 2)).ToList();
            foreach (var entry in older)
            {
                _snapshots.TryRemove(entry);
            }
        }
    }

    // The kernel's own reads, whoever asks: the boundary deciding a call, or the silo's HTTP endpoints deciding a request
    // outside any grain activation, whose calls are stamped only in a kernel scope.
    private async Task<CallerSnapshot> LoadTenantAsync(string tenant)
    {
        using (KernelScope.Enter())
        {
            return CallerSnapshot.Of(await grains.GetGrain<IIssuerKernelGrain>(tenant).GetCallersAsync(), Stopwatch.GetTimestamp());
        }
    }

    private async Task<CallerSnapshot> LoadRegistryAsync()
    {
        using (KernelScope.Enter())
        {
            return CallerSnapshot.OfRegistry(await grains.GetGrain<IAccessRegistryGrain>(IAccessRegistryGrain.Key).GetAccessAsync(), Stopwatch.GetTimestamp());
        }
    }
}
