using System.Globalization;

namespace AgentSecurity.Sandbox.Processes;

/// <summary>
/// What one execution's processes use right now, read from <c>/proc</c>: how many processes the agent's user has (the
/// kernel's process limit counts them all), and the CPU time (including children it reaped) and resident memory of
/// the execution's own process tree. The agent's user runs nothing but its sandboxes, so this is exact at each sample;
/// between samples a process that ends loses at most one interval of CPU time.
/// </summary>
internal readonly record struct AgentProcesses(int Count, TimeSpan Cpu, long ResidentBytes)
{
    // /proc reports times in USER_HZ, which is 100 on every Linux architecture; RSS in pages.
    private const long TicksPerSecond = 100;
    private static readonly long PageBytes = Environment.SystemPageSize;

    public static AgentProcesses Of(uint owner, int root)
    {
        var processes = new Dictionary<int, (int Parent, long Ticks, long Pages)>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(entry.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && Posix.OwnerOf(entry) == owner && ReadStat(entry) is { } stat)
            {
                processes[pid] = stat;
            }
        }

        // The execution's tree: the sandbox's first process and whatever descends from it (orphans go to its init).
        var tree = new HashSet<int> { root };
        for (var grew = true; grew;)
        {
            grew = false;
            foreach (var (pid, stat) in processes)
            {
                grew |= tree.Contains(stat.Parent) && tree.Add(pid);
            }
        }

        long ticks = 0, pages = 0;
        foreach (var pid in tree)
        {
            if (processes.TryGetValue(pid, out var stat))
            {
                ticks += stat.Ticks;
                pages += stat.Pages;
            }
        }

        return new AgentProcesses(processes.Count, TimeSpan.FromSeconds((double)ticks / TicksPerSecond), pages * PageBytes);
    }

    /// <summary>Parent, utime + stime + cutime + cstime and rss of one process, or null if it is gone.</summary>
    private static (int Parent, long Ticks, long Pages)? ReadStat(string directory)
    {
        string stat;
        try
        {
            stat = File.ReadAllText(Path.Combine(directory, "stat"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // The command name may hold spaces and parentheses; the fields that follow the last ')' do not.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        if (fields.Length < 22)
        {
            return null;
        }

        long Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture); // field 3 is the first after ')'
        return ((int)Field(4), Field(14) + Field(15) + Field(16) + Field(17), Field(24));
    }
}
