using YamlDotNet.RepresentationModel;

namespace AgentSecurity.Hosting.Tests.Kubernetes;

/// <summary>
/// Reading a manifest's YAML by key, failing with the path that is missing or of the wrong kind, so that a broken
/// manifest fails its test with a message that says where.
/// </summary>
internal static class YamlNodes
{
    public static YamlNode? Find(this YamlNode node, string key) =>
        node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    public static YamlMappingNode Map(this YamlNode node, string key) =>
        node.Find(key) as YamlMappingNode ?? throw new Xunit.Sdk.XunitException($"{Where(node)}: \"{key}\" is not a mapping");

    public static YamlMappingNode? MapOrNull(this YamlNode node, string key) => node.Find(key) as YamlMappingNode;

    public static IReadOnlyList<YamlNode> Seq(this YamlNode node, string key) =>
        node.Find(key) is YamlSequenceNode sequence ? sequence.Children.ToList() : [];

    public static string Str(this YamlNode node, string key) =>
        node.StrOrNull(key) ?? throw new Xunit.Sdk.XunitException($"{Where(node)}: \"{key}\" is not a scalar");

    public static string? StrOrNull(this YamlNode node, string key) => (node.Find(key) as YamlScalarNode)?.Value;

    public static IReadOnlyList<string> Strings(this YamlNode node, string key) =>
        [.. node.Seq(key).Select(item => (item as YamlScalarNode)?.Value ?? throw new Xunit.Sdk.XunitException($"{Where(node)}: \"{key}\" holds a non-scalar"))];

    /// <summary>A mapping of scalars (labels, selectors) as a dictionary.</summary>
    public static IReadOnlyDictionary<string, string> Pairs(this YamlNode node, string key) =>
        node.MapOrNull(key) is { } map
            ? map.Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => (p.Value as YamlScalarNode)?.Value ?? "", StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);

    private static string Where(YamlNode node) => $"line {node.Start.Line}";
}
