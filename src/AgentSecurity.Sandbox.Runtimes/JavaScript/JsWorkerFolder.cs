using System.Globalization;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using AgentSecurity.Sandbox.Worker;

namespace AgentSecurity.Sandbox.JavaScript;

/// <summary>
/// What a JavaScript worker sees of the silo's files: the worker's assembly and the assemblies it references (found
/// beside it, transitively; the framework's come from the .NET install), with a runtime configuration of its own, copied
/// into a folder only root can write and bound read-only into each sandbox. Staged so, a worker never sees the rest of the
/// silo's folder (its settings, its other assemblies).
/// </summary>
internal static class JsWorkerFolder
{
    public const string Mount = "/opt/agentsec-js";

    private const string WorkerAssembly = "AgentSecurity.Sandbox.JsWorker";
    private const UnixFileMode FolderMode = (UnixFileMode)0b111_101_101; // 0755
    private const UnixFileMode FileMode = (UnixFileMode)0b110_100_100;   // 0644

    public static string EntryPoint => $"{Mount}/{WorkerAssembly}.dll";

    /// <summary>The .NET install that runs the silo, whose <c>dotnet</c> host runs the workers too.</summary>
    public static string DotnetRoot { get; } = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", ".."));

    /// <summary>Copies the worker into <paramref name="folder"/> (created) and returns it.</summary>
    public static string Stage(string folder)
    {
        var source = Path.GetDirectoryName(typeof(JsWorkerProgram).Assembly.Location)!;
        Directory.CreateDirectory(folder, FolderMode);
        var pending = new Stack<string>([WorkerAssembly]);
        var copied = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (pending.TryPop(out var name))
        {
            var path = Path.Combine(source, name + ".dll");
            if (!copied.Add(name) || !File.Exists(path))
            {
                continue; // the framework's, or one already copied
            }

            var target = Path.Combine(folder, name + ".dll");
            File.Copy(path, target, overwrite: true);
            File.SetUnixFileMode(target, FileMode);
            foreach (var reference in References(path))
            {
                pending.Push(reference);
            }
        }

        var config = Path.Combine(folder, WorkerAssembly + ".runtimeconfig.json");
        File.WriteAllText(config, RuntimeConfig());
        File.SetUnixFileMode(config, FileMode);
        return folder;
    }

    private static List<string> References(string assembly)
    {
        using var stream = File.OpenRead(assembly);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        return [.. metadata.AssemblyReferences.Select(h => metadata.GetString(metadata.GetAssemblyReference(h).Name))];
    }

    /// <summary>
    /// The framework this silo runs on; workstation GC without a background thread (one job, one heap); invariant
    /// globalization (no ICU in the sandbox); and no tiered compilation: a worker runs one job, so whatever its warm-up
    /// compiled is compiled optimized once, off the execution's path, where tiering would compile the job's path again
    /// (at tier 1, on a background thread) while the job runs (a trivial execution took ~10 ms so, ~2 ms without).
    /// </summary>
    private static string RuntimeConfig()
    {
        var version = Environment.Version;
        return string.Create(CultureInfo.InvariantCulture, $$"""
            {
              "runtimeOptions": {
                "tfm": "net{{version.Major}}.{{version.Minor}}",
                "framework": { "name": "Microsoft.NETCore.App", "version": "{{version.Major}}.{{version.Minor}}.0" },
                "configProperties": {
                  "System.GC.Server": false,
                  "System.GC.Concurrent": false,
                  "System.Runtime.TieredCompilation": false,
                  "System.Globalization.Invariant": true
                }
              }
            }
            """);
    }
}
