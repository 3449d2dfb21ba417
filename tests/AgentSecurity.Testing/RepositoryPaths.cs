namespace AgentSecurity.Testing;

/// <summary>Where the repository and the shared conformance vectors are, from wherever a test runs.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>
    /// The public test vectors: <c>AGENTSEC_VECTORS</c>, else <c>../shared/vectors</c> beside the repository.
    /// They are third-party data and not part of the repository, so a user's own clone may lack them.
    /// </summary>
    public static string Vectors { get; } =
        Environment.GetEnvironmentVariable("AGENTSEC_VECTORS") is { Length: > 0 } configured
            ? Path.GetFullPath(configured)
            : Path.GetFullPath(Path.Combine(Root, "..", "shared", "vectors"));

    public static bool VectorsAvailable => Directory.Exists(Vectors);

    public static string VectorsMissingReason =>
        $"conformance vectors not found at {Vectors} (set AGENTSEC_VECTORS to the shared vectors folder)";

    public static string Vector(params string[] parts) => Path.Combine([Vectors, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Orleans.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Orleans.sln above {AppContext.BaseDirectory}");
    }
}
