using AgentSecurity.Fuzzing.Targets;
using SharpFuzz;

namespace AgentSecurity.Fuzzing;

/// <summary>
/// Runs one target under afl-fuzz: <c>afl-fuzz ... -- dotnet AgentSecurity.Fuzzing.dll TARGET</c> on assemblies
/// instrumented by SharpFuzz (tests/fuzz/run.sh does both). An exception other than the target's expected ones is a crash.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["--write-seeds", var inputs])
        {
            Seeds.Write(inputs);
            return 0;
        }

        if (args.Length != 1 || !FuzzTargets.All.TryGetValue(args[0], out var target))
        {
            Console.Error.WriteLine($"usage: AgentSecurity.Fuzzing {string.Join('|', FuzzTargets.All.Keys)} | --write-seeds INPUTS");
            return 2;
        }

        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            target(buffer.ToArray());
        });
        return 0;
    }
}
