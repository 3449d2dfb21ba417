using System.CommandLine;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Crypto;

namespace AgentSecurity.Cli;

/// <summary>
/// Who the command line calls the cluster as: the key of <c>--as FILE</c>, else <c>$AGENTSEC_KEY</c>, else the
/// development operator's key (<c>$AGENTSEC_OPERATOR_KEY</c>, else <c>operator.key</c> in <c>$AGENTSEC_STATE_DIR</c> when
/// that is set, else <c>.agentsec/operator.key</c> here or in the repository the <c>agentsec</c> script runs from) when
/// that file exists. Without one, nothing is sent.
/// </summary>
internal static class Caller
{
    public const string OperatorKeyFile = "operator.key";

    public static Option<string?> AsOption { get; } = new("--as")
    {
        Description = "Key file of the principal to call the cluster as (default: $AGENTSEC_KEY, else the development operator key: $AGENTSEC_OPERATOR_KEY, $AGENTSEC_STATE_DIR/operator.key or .agentsec/operator.key)",
        Recursive = true,
    };

    public static Result<SigningKey> Resolve(ParseResult result)
    {
        var path = result.GetValue(AsOption)
            ?? (Environment.GetEnvironmentVariable("AGENTSEC_KEY") is { Length: > 0 } key ? key : null)
            ?? DevelopmentOperatorKey();
        if (path is null)
        {
            // Name the folder looked in: a state dir for a cluster not started yet looks like any other missing key.
            var where = DevelopmentFiles.StateDirectory is { } state ? $" (none at {Path.Combine(state, OperatorKeyFile)}, from AGENTSEC_STATE_DIR)" : string.Empty;
            return new Failure(ReasonCodes.Unauthenticated,
                $"no key to call the cluster as: pass --as FILE, set AGENTSEC_KEY, or run ./run.sh once to create the development operator key{where}");
        }

        return KeyFiles.Read(path);
    }

    private static string? DevelopmentOperatorKey()
    {
        if (Environment.GetEnvironmentVariable("AGENTSEC_OPERATOR_KEY") is { Length: > 0 } configured)
        {
            return configured;
        }

        return DevelopmentFiles.FolderHolding(OperatorKeyFile) is { } folder ? Path.Combine(folder, OperatorKeyFile) : null;
    }
}
