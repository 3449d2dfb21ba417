namespace AgentSecurity.Hosting.Tests.Kubernetes;

/// <summary>
/// Tests that set variables of this process's environment (what Orleans' Kubernetes hosting reads and nothing lets a
/// test inject): they run alone, never beside another test that could see the variables.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection
{
    public const string Name = "process environment";
}
