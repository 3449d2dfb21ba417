using AgentSecurity.Testing;
using YamlDotNet.RepresentationModel;

namespace AgentSecurity.Hosting.Tests.Kubernetes;

/// <summary>One document of a file in <c>deploy/kubernetes</c>: its file, kind, name and YAML.</summary>
internal sealed record KubernetesManifest(string File, string ApiVersion, string Kind, string Name, YamlMappingNode Root)
{
    public static string Folder { get; } = Path.Combine(RepositoryPaths.Root, "deploy", "kubernetes");

    /// <summary>Every document of every YAML file in the folder but the kustomization, which is not a resource.</summary>
    public static IReadOnlyList<KubernetesManifest> All { get; } = Load();

    public static YamlMappingNode Kustomization { get; } = (YamlMappingNode)Read(Path.Combine(Folder, "kustomization.yaml")).Single().RootNode;

    public override string ToString() => $"{Kind} {Name} ({File})";

    public static IEnumerable<KubernetesManifest> OfKind(string kind) => All.Where(m => m.Kind == kind);

    /// <summary>The silos: every Deployment and StatefulSet.</summary>
    public static IReadOnlyList<KubernetesManifest> Workloads => [.. All.Where(m => m.Kind is "Deployment" or "StatefulSet")];

    public YamlMappingNode PodTemplate => Root.Map("spec").Map("template");

    public YamlMappingNode PodSpec => PodTemplate.Map("spec");

    public IReadOnlyList<YamlNode> Containers => PodSpec.Seq("containers");

    private static List<KubernetesManifest> Load()
    {
        var manifests = new List<KubernetesManifest>();
        foreach (var file in ResourceFiles())
        {
            foreach (var document in Read(file))
            {
                if (document.RootNode is not YamlMappingNode root)
                {
                    continue; // an empty document between separators
                }

                var metadata = root.Map("metadata");
                manifests.Add(new KubernetesManifest(Path.GetFileName(file), root.Str("apiVersion"), root.Str("kind"), metadata.Str("name"), root));
            }
        }

        return manifests;
    }

    public static IEnumerable<string> ResourceFiles() =>
        Directory.EnumerateFiles(Folder, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Where(f => Path.GetFileName(f) != "kustomization.yaml")
            .Order(StringComparer.Ordinal);

    private static IList<YamlDocument> Read(string file)
    {
        using var reader = new StreamReader(file);
        var stream = new YamlStream();
        stream.Load(reader);
        return stream.Documents;
    }
}
