using System.Diagnostics;
using AgentSecurity.Sandbox.Workspaces;

namespace AgentSecurity.Benchmarks;

/// <summary>
/// What keeping workspaces within their limits costs: measuring a workspace of n files, next to a host write into it
/// (which measures every 64 writes and counts its own in between: the mean of 128, measurements included).
/// </summary>
internal static class WorkspaceBenchmark
{
    public static void Run()
    {
        var root = Directory.CreateTempSubdirectory("agentsec-bench-workspaces-");
        try
        {
            var options = new WorkspaceOptions { Root = root.FullName, FirstUserId = 1_950_000_000, UserIdCount = 1000, MaxEntries = 20_000 };
            Console.WriteLine("workspace limits:");
            foreach (var files in new[] { 10, 1_000, 10_000 })
            {
                var workspace = AgentWorkspace.For(options, "bench", $"files-{files}");
                for (var i = 0; i < files; i++)
                {
                    File.WriteAllBytes(Path.Combine(workspace.Directory, $"f{i}"), new byte[100]);
                }

                var measure = Median(() => workspace.Measure());
                var started = Stopwatch.GetTimestamp();
                for (var i = 0; i < 128; i++)
                {
                    _ = workspace.Write("/workspace/out.txt", new byte[100]);
                }

                var write = Stopwatch.GetElapsedTime(started).TotalMilliseconds / 128;
                Console.WriteLine($"  {files,6} files: measuring {measure * 1000,8:F1} µs (median of 9)   a host write {write * 1000,8:F1} µs (mean of 128)");
            }
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    private static double Median(Action action)
    {
        var times = new List<double>();
        for (var round = 0; round < 9; round++)
        {
            var started = Stopwatch.GetTimestamp();
            action();
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        times.Sort();
        return times[times.Count / 2];
    }
}
