using System.CommandLine;
using AgentSecurity.Grants.Crypto;

namespace AgentSecurity.Cli.Commands;

internal static class KeyCommands
{
    public static Command Create(CliApp app)
    {
        var outOption = new Option<string?>("--out") { Description = "Key file to create (default: key-<end of the DID>.key); never overwritten" };
        var create = new Command("new", "Create an Ed25519 key and write it to a key file (mode 0600)") { outOption };
        create.SetAction(result =>
        {
            var output = app.OutputFor(result);
            using var key = SigningKey.Generate();
            var path = result.GetValue(outOption) ?? $"key-{key.Did.Value[^8..]}.key";
            try
            {
                KeyFiles.Write(path, key);
            }
            catch (IOException e)
            {
                return output.Usage($"cannot create {path}: {e.Message}");
            }

            return output.Answer(ExitCodes.Ok, new { did = key.Did.Value, file = path }, $"{key.Did.Value}\nwritten to {path}");
        });

        return new Command("key", "Signing keys") { create };
    }
}
