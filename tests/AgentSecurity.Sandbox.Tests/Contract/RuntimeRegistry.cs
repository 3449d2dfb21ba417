namespace AgentSecurity.Sandbox.Tests.Contract;

/// <summary>
/// Every sandbox runtime, as theory data for the contract suite: a theory over <see cref="Runtimes"/> is a promise
/// of every runtime. The rows are the runtimes' names (xunit shows and reruns a row by it); a test gets the adapter
/// with <see cref="Get"/>.
/// </summary>
internal static class RuntimeRegistry
{
    private static readonly IReadOnlyDictionary<string, RuntimeAdapter> Adapters =
        new RuntimeAdapter[] { new WasmAdapter(), new JavaScriptAdapter(), new ProcessAdapter() }.ToDictionary(a => a.Name, StringComparer.Ordinal);

    public static TheoryData<string> Runtimes => [.. Adapters.Keys];

    public static IEnumerable<string> Names => Adapters.Keys;

    public static RuntimeAdapter Get(string name) => Adapters[name];
}
