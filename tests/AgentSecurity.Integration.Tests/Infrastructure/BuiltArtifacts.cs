using AgentSecurity.Testing;

namespace AgentSecurity.Integration.Tests.Infrastructure;

/// <summary>The silo and command line as built beside this test assembly (same configuration).</summary>
internal static class BuiltArtifacts
{
    private static readonly string Configuration =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    public static string Silo => Find("AgentSecurity.Silo", "AgentSecurity.Silo.dll");

    public static string Cli => Find("AgentSecurity.Cli", "agentsec.dll");

    private static string Find(string project, string file)
    {
        var path = Path.Combine(RepositoryPaths.Root, "src", project, "bin", Configuration, "net10.0", file);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is not built (dotnet build Orleans.sln -c {Configuration})");
    }
}
