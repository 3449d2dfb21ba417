using System.Globalization;

namespace AgentSecurity.Sandbox.Processes;

/// <summary>
/// What the processes of one agent's user use right now, read from <c>/proc</c>: how many there are (the process
/// limit), their CPU time including the children they reaped, and their resident memory. The agent's user runs nothing
/// but its sandboxes, so this is exact at each sample; between samples a process that ends loses at most one interval
/// of CPU time (a pid namespace's init is reaped by no one who reports it).
/// </summary>
internal readonly record struct AgentProcesses(int Count, TimeSpan Cpu, long ResidentBytes)
{
    // /proc reports times in USER_HZ, which is 100 on every Linux architecture; RSS in pages.
    private const long TicksPerSecond = 100;
    private static readonly long PageBytes = Environment.SystemPageSize;

    public static AgentProcesses Of(uint owner)
    {
        var count = 0;
        long ticks = 0, pages = 0;
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            var name = entry.AsSpan(6);
            if (name.Length == 0 || !char.IsAsciiDigit(name[0]) || Posix.OwnerOf(entry) != owner)
            {
                continue;
            }

            count++;
            if (ReadStat(entry) is { } stat)
            {
                ticks += stat.Ticks;
                pages += stat.Pages;
            }
        }

        return new AgentProcesses(count, TimeSpan.FromSeconds((double)ticks / TicksPerSecond), pages * PageBytes);
    }

    /// <summary>utime + stime + cutime + cstime and rss of one process, or null if it is gone.</summary>
    private static (long Ticks, long Pages)? ReadStat(string directory)
    {
        string stat;
        try
        {
            stat = File.ReadAllText(Path.Combine(directory, "stat"));
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
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
        return (Field(14) + Field(15) + Field(16) + Field(17), Field(24));
    }
}
