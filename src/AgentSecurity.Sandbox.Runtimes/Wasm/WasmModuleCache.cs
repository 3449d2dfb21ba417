using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Wasmtime;

namespace AgentSecurity.Sandbox.Wasm;

/// <summary>
/// Compiled modules by the SHA-256 of their bytes: compiling takes tens of milliseconds, instantiating a compiled
/// module microseconds. Bounded: past <see cref="Capacity"/> modules the least recently used is dropped (instances
/// that still run keep what they need alive). Compiling is the one step no fuel or deadline reaches (and pathological
/// nesting makes it superlinear), so few compile at once on a silo: the rest wait, at most the time they were given.
/// </summary>
internal sealed class WasmModuleCache(Engine engine, int capacity, int compilers) : IDisposable
{
    private readonly ConcurrentDictionary<string, Entry> _modules = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _compilers = new(compilers);

    public int Capacity => capacity;

    public int Count => _modules.Count;

    /// <summary>The compiled module, or why the bytes are not one (<c>bad_module</c>); null for both when no compiler was free in time.</summary>
    public (Module? Module, string? Problem) Get(ReadOnlyMemory<byte> code, TimeSpan wait)
    {
        var key = Convert.ToHexString(SHA256.HashData(code.Span));
        if (_modules.TryGetValue(key, out var cached))
        {
            cached.LastUsed = Environment.TickCount64;
            return (cached.Module, null);
        }

        if (!_compilers.Wait(wait))
        {
            return (null, null);
        }

        Module module;
        try
        {
            module = IsBinary(code.Span)
                ? Module.FromBytes(engine, "agent", code.Span)
                : Module.FromText(engine, "agent", Text(code.Span));
        }
        catch (Exception e) when (e is WasmtimeException or DecoderFallbackException)
        {
            return (null, $"not a valid WebAssembly module: {FirstLine(e.Message)}");
        }
        finally
        {
            _compilers.Release();
        }

        _modules[key] = new Entry(module) { LastUsed = Environment.TickCount64 };
        while (_modules.Count > capacity && _modules.MinBy(p => p.Value.LastUsed) is { Key: { } oldest })
        {
            _modules.TryRemove(oldest, out _);
        }

        return (module, null);
    }

    public void Dispose() => _compilers.Dispose();

    private static bool IsBinary(ReadOnlySpan<byte> code) => code.StartsWith("\0asm"u8);

    private static string Text(ReadOnlySpan<byte> code) => new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(code);

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    private sealed class Entry(Module module)
    {
        public Module Module { get; } = module;

        public long LastUsed { get; set; }
    }
}
