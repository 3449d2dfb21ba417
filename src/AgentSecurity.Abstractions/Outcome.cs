namespace AgentSecurity.Abstractions;

/// <summary>
/// The shape every answer of the kernel shares: whether it did what was asked and, when not, a stable code of
/// <c>contracts/cli.md</c> and a message for people. Each answer names its success in its own words (applied, accepted,
/// revoked, ...), as the command line's JSON does.
/// </summary>
public interface IOutcome
{
    bool Succeeded { get; }

    /// <summary>The reason code when it did not succeed.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1716", Justification = "The wire name of every answer since version 1; no VB implementations.")]
    string? Error { get; }

    string? Message { get; }
}
