using System.Diagnostics;

namespace AgentSecurity.Cli.Bench;

/// <summary>
/// CPU time used so far by this process and, when the benchmark is told its id (<c>AGENTSEC_BENCH_SILO_PID</c>), by a
/// silo on the same machine: read at the edges of each phase, they give the CPU a kind of call costs on each side, which
/// a machine the client and the silo share turns into throughput (the breakdown of issue 16 goal 1).
/// </summary>
internal sealed class ProcessCpu : IDisposable
{
    private Process? _silo;

    private ProcessCpu(Process? silo) => _silo = silo;

    /// <summary>The silo named by <c>AGENTSEC_BENCH_SILO_PID</c>, if it names a running process here; else the client's alone.</summary>
    public static ProcessCpu FromEnvironment()
    {
        if (Environment.GetEnvironmentVariable("AGENTSEC_BENCH_SILO_PID") is { Length: > 0 } text && int.TryParse(text, out var pid))
        {
            try
            {
                return new ProcessCpu(Process.GetProcessById(pid));
            }
            catch (ArgumentException)
            {
                // No such process: no silo figures rather than a failed benchmark.
            }
        }

        return new ProcessCpu(null);
    }

    /// <summary>Whether every phase so far has the silo's CPU (false without a silo, or once it could not be read).</summary>
    public bool HasSilo => _silo is not null;

    /// <summary>CPU time of the client and of the silo (zero without one) up to now.</summary>
    public (TimeSpan Client, TimeSpan Silo) Now()
    {
        using var self = Process.GetCurrentProcess();
        return (self.TotalProcessorTime, SiloNow());
    }

    private TimeSpan SiloNow()
    {
        if (_silo is null)
        {
            return TimeSpan.Zero;
        }

        try
        {
            _silo.Refresh();
            return _silo.TotalProcessorTime;
        }
        catch (InvalidOperationException)
        {
            // The silo exited: its figures stop being reported; the benchmark itself goes on or fails on its calls.
            Dispose();
            return TimeSpan.Zero;
        }
    }

    public void Dispose()
    {
        _silo?.Dispose();
        _silo = null;
    }
}
