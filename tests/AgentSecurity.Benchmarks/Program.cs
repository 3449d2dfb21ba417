using AgentSecurity.Benchmarks;

// Figures for the notes and the README. Each benchmark measures its baseline in the same run, in alternating
// rounds, and reports medians: the machines this runs on are shared and noisy.
var which = args.FirstOrDefault() ?? "all";
if (which is "decisions" or "all")
{
    DecisionBenchmark.Run();
}

if (which is "memory" or "all")
{
    await ActivationMemoryBenchmark.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5_000);
}

if (which is "executions" or "all")
{
    await ExecutionBenchmark.RunAsync();
}

if (which is "workspaces" or "all")
{
    WorkspaceBenchmark.Run();
}

if (which is "scopes" or "all")
{
    ScopeMatchBenchmark.Run();
}
