namespace AgentSecurity.Cli;

/// <summary>
/// Where the command line finds the files <c>./run.sh</c> makes for a local cluster (the development operator key,
/// <c>tls/</c>): <c>$AGENTSEC_STATE_DIR</c> when it is set, else <c>.agentsec/</c> here, else <c>.agentsec/</c> in the
/// repository the <c>agentsec</c> script runs from.
/// </summary>
internal static class DevelopmentFiles
{
    public const string StateDirectoryVariable = "AGENTSEC_STATE_DIR";

    public static readonly string DefaultDirectory = ".agentsec";

    /// <summary>The state directory when one is set: one cluster's files, apart from any other cluster's.</summary>
    public static string? StateDirectory =>
        Environment.GetEnvironmentVariable(StateDirectoryVariable) is { Length: > 0 } state ? state : null;

    /// <summary>The folder to write new development files to and to default to: the state directory, else <c>.agentsec</c> here.</summary>
    public static string Directory => StateDirectory ?? DefaultDirectory;

    /// <summary>The first folder that holds <paramref name="relativeFile"/>, or null.</summary>
    public static string? FolderHolding(string relativeFile)
    {
        if (StateDirectory is { } state)
        {
            // The state directory alone: falling back to .agentsec/ would call another cluster as its operator, or
            // trust its CA, and fail with a confusing refusal instead of saying the files are missing.
            return File.Exists(Path.Combine(state, relativeFile)) ? state : null;
        }

        if (File.Exists(Path.Combine(DefaultDirectory, relativeFile)))
        {
            return DefaultDirectory;
        }

        return Environment.GetEnvironmentVariable("AGENTSEC_REPOSITORY") is { Length: > 0 } repository
            && File.Exists(Path.Combine(repository, DefaultDirectory, relativeFile))
            ? Path.Combine(repository, DefaultDirectory)
            : null;
    }
}
