using System.Text.Json;
using AgentSecurity.Sandbox.Host;

namespace AgentSecurity.Fuzzing.Targets;

/// <summary>
/// A line an agent's native process writes on the host socket. Contract: reading it never throws; a call that reads writes
/// back (as its JSON object) to the same call.
/// </summary>
public static class HostCallTarget
{
    public static void Run(byte[] input)
    {
        if (!HostCallLine.Parse(input).TryGetValue(out var call))
        {
            return;
        }

        var written = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string?> { ["op"] = call.Operation, ["arg"] = call.Argument, ["arg2"] = call.Second });
        if (!HostCallLine.Parse(written).TryGetValue(out var again) || again != call)
        {
            throw new ContractViolationException($"a host call does not read back as written: {call}");
        }
    }
}
