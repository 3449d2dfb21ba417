using System.CommandLine;
using AgentSecurity.Tls;

namespace AgentSecurity.Cli.Commands;

/// <summary><c>agentsec tls init</c>: the development CA and the certificates of a local cluster (what <c>./run.sh</c> uses).</summary>
internal static class TlsCommands
{
    public static Command Create(CliApp app)
    {
        var directoryOption = new Option<string>("--dir") { Description = "Folder of the files (default: $AGENTSEC_STATE_DIR/tls, else .agentsec/tls)", DefaultValueFactory = _ => ClientTls.DevelopmentDirectory };
        var hostOption = new Option<string[]>("--host")
        {
            Description = "More names for a new silo certificate (an advertised host or address); 127.0.0.1, ::1 and localhost are always in it",
            AllowMultipleArgumentsPerToken = false,
        };
        var init = new Command("init", "Create a development CA and silo and client certificates (PEM; keys 0600); files that exist are kept") { directoryOption, hostOption };
        init.SetAction(result =>
        {
            var output = app.OutputFor(result);
            var directory = result.GetValue(directoryOption)!;
            DevelopmentTlsResult made;
            try
            {
                made = DevelopmentTlsFolder.Ensure(directory, result.GetValue(hostOption) ?? [], TimeProvider.System);
            }
            catch (Exception e) when (e is CertificateFileException or IOException or UnauthorizedAccessException)
            {
                return output.Usage(e.Message);
            }

            var lines = made.Files.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Value,-8} {Path.Combine(directory, f.Key)}");
            return output.Answer(ExitCodes.Ok,
                new { dir = directory, files = made.Files, caFingerprint = made.AuthorityFingerprint },
                $"{string.Join('\n', lines)}\nCA SHA-256 fingerprint {made.AuthorityFingerprint}");
        });

        return new Command("tls", "The cluster's TLS certificates") { init };
    }
}
