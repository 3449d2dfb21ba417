using System.CommandLine;
using AgentSecurity.Grants.Identity;

namespace AgentSecurity.Cli.Commands;

internal static class DidCommands
{
    public static Command Create(CliApp app)
    {
        var didArgument = new Argument<string>("DID") { Description = "A did:key of an Ed25519 public key" };
        var inspect = new Command("inspect", "Decode a did:key and show its public key") { didArgument };
        inspect.SetAction(result =>
        {
            var output = app.OutputFor(result);
            var did = DidKey.Parse(result.GetValue(didArgument));
            if (!did.Succeeded)
            {
                return output.Error(did.Failure.Code, did.Failure.Message);
            }

            var hex = Convert.ToHexStringLower(did.Value.PublicKey);
            return output.Answer(ExitCodes.Ok, new { did = did.Value.Value, publicKey = hex }, $"{did.Value.Value}\nEd25519 public key {hex}");
        });

        return new Command("did", "Decentralized identifiers (did:key)") { inspect };
    }
}
