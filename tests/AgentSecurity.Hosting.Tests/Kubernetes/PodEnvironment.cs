using Microsoft.Extensions.Configuration;
using YamlDotNet.RepresentationModel;

namespace AgentSecurity.Hosting.Tests.Kubernetes;

/// <summary>
/// A container's environment as the silo would see it in a pod: literal values as written, the downward API's fields
/// as a pod would have them, and secrets' and config maps' values as placeholders; and the silo's settings bound from it
/// exactly as the silo binds them (its appsettings.json, then the <c>AGENTSEC_*</c> aliases and <c>Silo__*</c> keys).
/// </summary>
internal sealed class PodEnvironment
{
    public const string PodIp = "10.1.2.3";

    private static readonly Dictionary<string, string> DownwardApi = new(StringComparer.Ordinal)
    {
        ["metadata.name"] = "agentsec-silo-5d8f7c9b4-x2k7q",
        ["metadata.namespace"] = "agentsec",
        ["status.podIP"] = PodIp,
    };

    private PodEnvironment(IReadOnlyDictionary<string, YamlMappingNode> entries, IReadOnlyDictionary<string, string> values)
    {
        Entries = entries;
        Values = values;
    }

    /// <summary>Each variable's declaration, by name.</summary>
    public IReadOnlyDictionary<string, YamlMappingNode> Entries { get; }

    /// <summary>Each variable's value in a pod (placeholders for secrets and config maps).</summary>
    public IReadOnlyDictionary<string, string> Values { get; }

    public string? this[string name] => Values.GetValueOrDefault(name);

    public static PodEnvironment Of(YamlNode container)
    {
        var entries = new Dictionary<string, YamlMappingNode>(StringComparer.Ordinal);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in container.Seq("env").Cast<YamlMappingNode>())
        {
            var name = entry.Str("name");
            Assert.True(entries.TryAdd(name, entry), $"{name} is declared twice");
            values[name] = entry.StrOrNull("value") ?? (entry.MapOrNull("valueFrom") is { } from
                ? from.MapOrNull("fieldRef") is { } field
                    ? DownwardApi.GetValueOrDefault(field.Str("fieldPath")) ?? throw new Xunit.Sdk.XunitException($"{name}: fieldRef {field.Str("fieldPath")} is not one this check knows")
                    : $"({name} from a secret or config map)"
                : "");
        }

        Assert.Empty(container.Seq("envFrom")); // every variable by name, so that each one is checked
        return new PodEnvironment(entries, values);
    }

    /// <summary>The silo's host settings in this environment, bound as <c>SiloHost.Build</c> binds them.</summary>
    public SiloHostOptions SiloHost()
    {
        var aliases = EnvironmentAliases.Map
            .Where(a => Values.ContainsKey(a.Key))
            .Select(a => new KeyValuePair<string, string?>(a.Value, Values[a.Key]));
        var keys = Values
            .Where(v => v.Key.StartsWith(SiloHostOptions.SectionName + "__", StringComparison.Ordinal))
            .Select(v => new KeyValuePair<string, string?>(v.Key.Replace("__", ":", StringComparison.Ordinal), v.Value));
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AgentSecurity.Testing.RepositoryPaths.Root, "src", "AgentSecurity.Silo", "appsettings.json"))
            .AddInMemoryCollection(keys)
            .AddInMemoryCollection(aliases)
            .Build();
        return configuration.GetSection(SiloHostOptions.SectionName).Get<SiloHostOptions>() ?? new SiloHostOptions();
    }
}
