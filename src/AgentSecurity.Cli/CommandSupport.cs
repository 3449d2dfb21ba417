using System.CommandLine;
using AgentSecurity.Client;
using AgentSecurity.Grants.Crypto;

namespace AgentSecurity.Cli;

/// <summary>What most commands do first: read a signing key, connect to the cluster.</summary>
internal static class CommandSupport
{
    public static Option<string> KeyOption(string description = "Key file of the signer") => new("--key") { Description = description, Required = true };

    /// <summary>Reads a key file; a bad one is a usage error.</summary>
    public static SigningKey? ReadKey(CliOutput output, string path, out int exitCode)
    {
        var key = KeyFiles.Read(path);
        exitCode = key.Succeeded ? ExitCodes.Ok : output.Error(key.Failure.Code, key.Failure.Message, ExitCodes.Usage);
        return key.Succeeded ? key.Value : null;
    }

    /// <summary>Connects to the cluster, runs the body, disconnects; an unreachable cluster is exit 3.</summary>
    public static async Task<int> WithClusterAsync(ParseResult result, CliOutput output, Func<AgentSecurityClient, Task<int>> body, CancellationToken cancellation)
    {
        if (!Caller.Resolve(result).TryGetValue(out var caller, out var noCaller))
        {
            return output.Error(noCaller.Code, noCaller.Message, ExitCodes.Usage);
        }

        var (connection, problem) = await ClusterConnection.ConnectAsync(result.GetValue(CliApp.GatewayOption), caller, cancellation);
        if (connection is null)
        {
            return output.Error(problem!.Code, problem.Message);
        }

        await using (connection)
        {
            try
            {
                return await body(connection.Client);
            }
            catch (Abstractions.Boundary.CallRefusedException e)
            {
                return output.Error(e.Code, e.Message, ExitCodes.No);
            }
#pragma warning disable CA1031 // A cluster that fails mid-command is unreachable (exit 3), never a crash.
            catch (Exception e) when (e is not OperationCanceledException)
#pragma warning restore CA1031
            {
                return output.Error(Grants.ReasonCodes.Unavailable, $"the cluster failed to answer ({e.GetType().Name}: {e.Message})");
            }
        }
    }
}
