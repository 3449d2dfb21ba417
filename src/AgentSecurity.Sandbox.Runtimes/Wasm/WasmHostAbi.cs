using Wasmtime;

namespace AgentSecurity.Sandbox.Wasm;

/// <summary>
/// The host API as WebAssembly imports, all in module <c>agentsec</c>, and the only imports a module may have.
/// Strings are UTF-8 in the module's exported <c>memory</c>, passed as (pointer, length); a length of -1 passes null.
/// <list type="table">
/// <item><c>input(ptr, cap) → len</c>: copies up to <c>cap</c> bytes of the input to <c>ptr</c>; returns the input's whole length</item>
/// <item><c>output(ptr, len)</c>: appends text to the output</item>
/// <item><c>call(op, oplen, arg, arglen, arg2, arg2len) → status</c>: one host call (see <c>HostCall</c>); 0 ok, 1 denied by the grant, 2 failed</item>
/// <item><c>reply(ptr, cap) → len</c>: copies the last call's reply (its value; after a denial or failure <c>code: message</c>)</item>
/// </list>
/// The module exports <c>run</c> (no parameters, no results), which the runtime calls once.
/// </summary>
internal static class WasmHostAbi
{
    public const string ImportModule = "agentsec";
    public const string Entry = "run";
    public const string MemoryExport = "memory";

    public const int StatusOk = 0;
    public const int StatusDenied = 1;
    public const int StatusFailed = 2;

    /// <summary>Each import's parameter and result types.</summary>
    public static readonly IReadOnlyDictionary<string, (ValueKind[] Parameters, ValueKind[] Results)> Imports =
        new Dictionary<string, (ValueKind[], ValueKind[])>(StringComparer.Ordinal)
        {
            ["input"] = ([ValueKind.Int32, ValueKind.Int32], [ValueKind.Int32]),
            ["output"] = ([ValueKind.Int32, ValueKind.Int32], []),
            ["call"] = ([ValueKind.Int32, ValueKind.Int32, ValueKind.Int32, ValueKind.Int32, ValueKind.Int32, ValueKind.Int32], [ValueKind.Int32]),
            ["reply"] = ([ValueKind.Int32, ValueKind.Int32], [ValueKind.Int32]),
        };

    /// <summary>Why a compiled module may not run here, or null: imports outside the host API, or no <c>run</c>.</summary>
    public static string? Refusal(Module module)
    {
        foreach (var import in module.Imports)
        {
            if (import is not FunctionImport function || import.ModuleName != ImportModule || !Imports.TryGetValue(import.Name, out var type))
            {
                return $"the module imports {import.ModuleName}.{import.Name}; only the host API ({ImportModule}.{string.Join(", ", Imports.Keys)}) is available";
            }

            if (!function.Parameters.SequenceEqual(type.Parameters) || !function.Results.SequenceEqual(type.Results))
            {
                return $"{ImportModule}.{import.Name} is imported with the wrong type";
            }
        }

        return module.Exports.OfType<FunctionExport>().FirstOrDefault(e => e.Name == Entry) is { Parameters.Count: 0, Results.Count: 0 }
            ? null
            : $"the module must export a function \"{Entry}\" with no parameters and no results";
    }
}
