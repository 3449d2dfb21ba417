using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Json;
using AgentSecurity.Grants.Policy;

namespace AgentSecurity.Cli;

/// <summary>
/// Capabilities written on one line, as <c>admin add --ceiling</c> takes them:
/// <c>fileSystem=read,network=outbound,memory=none,llm,vectorDb,subprocess</c> (<c>fs</c> and <c>net</c> also work;
/// what is not named is none or false).
/// </summary>
internal static class CapabilitySpec
{
    public static bool TryParse(string spec, out JObject capabilities, out string error)
    {
        var levels = new Dictionary<string, string>(StringComparer.Ordinal) { ["fileSystem"] = "none", ["network"] = "none", ["memory"] = "none" };
        var flags = new Dictionary<string, bool>(StringComparer.Ordinal) { ["subprocess"] = false, ["vectorDb"] = false, ["llm"] = false };
        capabilities = null!;
        error = string.Empty;
        foreach (var part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (name, value) = part.IndexOf('=', StringComparison.Ordinal) is var eq and > 0 ? (part[..eq], part[(eq + 1)..]) : (part, null);
            name = name switch { "fs" => "fileSystem", "net" => "network", "vectordb" => "vectorDb", _ => name };
            var known = name == "network" ? CapabilityNames.NetworkLevels.ContainsKey(value ?? string.Empty) : CapabilityNames.AccessLevels.ContainsKey(value ?? string.Empty);
            if (levels.ContainsKey(name) && known)
            {
                levels[name] = value!;
            }
            else if (flags.ContainsKey(name) && value is null or "true")
            {
                flags[name] = true;
            }
            else
            {
                error = $"\"{part}\" is not fileSystem=LEVEL, network=LEVEL, memory=LEVEL, subprocess, vectorDb or llm";
                return false;
            }
        }

        capabilities = new JObject(
        [
            .. levels.Select(l => new KeyValuePair<string, JNode>(l.Key, new JString(l.Value))),
            .. flags.Select(f => new KeyValuePair<string, JNode>(f.Key, JBool.Of(f.Value))),
        ]);
        return true;
    }
}
