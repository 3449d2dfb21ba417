using System.Globalization;

namespace AgentSecurity.Sandbox.Tests.Infrastructure;

/// <summary>Processes of an agent's user, as <c>/proc</c> shows them.</summary>
internal static class UserProcesses
{
    /// <summary>Processes of <paramref name="owner"/> (zombies included) still alive after a short grace: trees are killed asynchronously.</summary>
    public static async Task<int> CountAsync(uint owner)
    {
        // Polling on purpose: these processes are the agent's user's, reaped by bubblewrap inside their own pid
        // namespace after SIGKILL; nothing the test holds (no handle, no event) says when /proc stops listing them.
        for (var i = 0; i < 20 && Count(owner) > 0; i++)
        {
            await Task.Delay(100);
        }

        return Count(owner);
    }

    public static int Count(uint owner) => Of(owner).Count;

    public static List<int> Of(uint owner) =>
        [.. Directory.EnumerateDirectories("/proc").Where(p => char.IsAsciiDigit(Path.GetFileName(p)[0]) && OwnerOf(p) == owner).Select(p => int.Parse(Path.GetFileName(p), CultureInfo.InvariantCulture))];

    /// <summary>Sends <paramref name="signal"/> (a name kill(1) knows: KILL, STOP) to every process of <paramref name="owner"/>.</summary>
    public static async Task SignalAsync(uint owner, string signal)
    {
        var pids = Of(owner);
        Assert.NotEmpty(pids);
        using var kill = System.Diagnostics.Process.Start("/bin/kill", ["-" + signal, .. pids.Select(p => p.ToString(CultureInfo.InvariantCulture))]);
        await kill.WaitForExitAsync();
    }

    private static uint? OwnerOf(string path)
    {
        try
        {
            var status = File.ReadAllLines(Path.Combine(path, "status")).FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal));
            return status is null ? null : uint.Parse(status.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
