using System.Text.RegularExpressions;
using AgentSecurity.Silo;
using AgentSecurity.Testing;
using Orleans.Hosting.Kubernetes;
using YamlDotNet.RepresentationModel;

namespace AgentSecurity.Hosting.Tests.Kubernetes;

/// <summary>
/// The offline check of <c>deploy/kubernetes</c> (no cluster or kubectl on the development machines or CI): every file
/// parses, and what a silo needs in a pod is there and agrees with the silo itself: probes on <c>/healthz</c> at its
/// HTTP port, resources, a non-root pod, the environment Orleans' Kubernetes hosting needs (checked by the silo's own
/// validator), labels that every selector finds, a role that grants exactly what the hosting calls, documented secrets,
/// and the image and ports of <c>deploy/Dockerfile</c>.
/// </summary>
public sealed partial class KubernetesManifestsTests
{
    /// <summary>What each kind must be declared as: an unknown kind or a wrong API version is a failure.</summary>
    private static readonly Dictionary<string, string> ApiVersions = new(StringComparer.Ordinal)
    {
        ["Deployment"] = "apps/v1",
        ["StatefulSet"] = "apps/v1",
        ["Service"] = "v1",
        ["ServiceAccount"] = "v1",
        ["Role"] = "rbac.authorization.k8s.io/v1",
        ["RoleBinding"] = "rbac.authorization.k8s.io/v1",
        ["PodDisruptionBudget"] = "policy/v1",
    };

    /// <summary>
    /// What Orleans' Kubernetes hosting calls (KubernetesClusterAgent of Microsoft.Orleans.Hosting.Kubernetes 10.4.2):
    /// ReadNamespacedPod, PatchNamespacedPod (its own labels), ListNamespacedPod, WatchListNamespacedPod; DeleteNamespacedPod
    /// only with DeleteDefunctSiloPods, which the silo leaves off.
    /// </summary>
    private static readonly string[] HostingVerbs = ["get", "list", "patch", "watch"];

    [Fact]
    public void Manifests_EveryResourceFile_IsInTheKustomizationAndEveryListedFileExists()
    {
        var listed = KubernetesManifest.Kustomization.Strings("resources").Order(StringComparer.Ordinal).ToList();
        var files = KubernetesManifest.ResourceFiles().Select(f => Path.GetRelativePath(KubernetesManifest.Folder, f)).Order(StringComparer.Ordinal).ToList();

        Assert.Equal(files, listed);
    }

    [Fact]
    public void Manifests_EveryDocument_IsAKnownKindOfItsApiVersionWithAUniqueName()
    {
        Assert.NotEmpty(KubernetesManifest.All);
        foreach (var manifest in KubernetesManifest.All)
        {
            Assert.True(ApiVersions.TryGetValue(manifest.Kind, out var apiVersion), $"{manifest}: a kind this check does not know");
            Assert.Equal(apiVersion, manifest.ApiVersion);
            Assert.Matches(DnsLabel(), manifest.Name);
            Assert.Null(manifest.Root.Map("metadata").Find("namespace")); // the kustomization's namespace, one place
        }

        Assert.Equal(KubernetesManifest.All.Count, KubernetesManifest.All.Select(m => (m.Kind, m.Name)).Distinct().Count());
        Assert.Single(KubernetesManifest.Workloads);
    }

    /// <summary>
    /// The schema check: each file read into the Kubernetes API's own models (KubernetesClient, the client Orleans'
    /// Kubernetes hosting uses), strictly, so a misspelt or misplaced field (<c>readinessProbes</c>, a probe under the
    /// pod instead of the container) fails here rather than being dropped by the API server.
    /// </summary>
    [Fact]
    public void Manifests_EveryFile_ReadsStrictlyIntoTheKubernetesModels()
    {
        foreach (var file in KubernetesManifest.ResourceFiles())
        {
            var objects = k8s.KubernetesYaml.LoadAllFromString(File.ReadAllText(file), typeMap: null, strict: true);
            var documents = KubernetesManifest.All.Where(m => m.File == Path.GetFileName(file)).ToList();

            Assert.Equal(documents.Select(d => d.Kind), objects.Select(o => ((k8s.IKubernetesObject)o).Kind));
            Assert.All(objects, o => Assert.StartsWith("V1", o.GetType().Name, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Workloads_EveryProbe_GetsHealthzOnTheSilosHttpPort()
    {
        foreach (var (workload, container) in Containers())
        {
            var silo = PodEnvironment.Of(container).SiloHost();
            foreach (var kind in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
            {
                var probe = container.Map(kind).Map("httpGet");
                Assert.Equal("/healthz", probe.Str("path"));
                Assert.Equal(silo.HttpPort, ContainerPort(container, probe.Str("port")));
                // Listening beyond loopback, the silo's HTTP port is HTTPS only.
                Assert.Equal(silo.ListenOnAnyAddress ? "HTTPS" : "HTTP", probe.StrOrNull("scheme") ?? "HTTP");
                Assert.True(int.Parse(container.Map(kind).Str("timeoutSeconds"), System.Globalization.CultureInfo.InvariantCulture) > 5,
                    $"{workload} {kind}: the health check itself waits up to 5 s for a grain call");
            }
        }
    }

    [Fact]
    public void Workloads_EveryContainer_RequestsCpuAndMemoryAndLimitsMemory()
    {
        foreach (var (_, container) in Containers())
        {
            var resources = container.Map("resources");
            Assert.NotNull(resources.Map("requests").StrOrNull("cpu"));
            Assert.NotNull(resources.Map("requests").StrOrNull("memory"));
            Assert.NotNull(resources.Map("limits").StrOrNull("memory"));
        }
    }

    [Fact]
    public void Workloads_Pods_RunAsNonRootWithoutPrivilegesOnAReadOnlyRoot()
    {
        foreach (var workload in KubernetesManifest.Workloads)
        {
            var pod = workload.PodSpec.Map("securityContext");
            Assert.Equal("true", pod.Str("runAsNonRoot"));
            Assert.NotEqual("0", pod.Str("runAsUser"));
            Assert.Equal("RuntimeDefault", pod.Map("seccompProfile").Str("type"));
            Assert.Null(workload.PodSpec.Find("hostNetwork"));
            Assert.Null(workload.PodSpec.Find("hostPID"));
            foreach (var container in workload.Containers)
            {
                var security = container.Map("securityContext");
                Assert.Equal("false", security.Str("allowPrivilegeEscalation"));
                Assert.Equal("true", security.Str("readOnlyRootFilesystem"));
                Assert.Equal("false", security.StrOrNull("privileged") ?? "false");
                Assert.Equal(["ALL"], security.Map("capabilities").Strings("drop"));
                Assert.Empty(security.Map("capabilities").Seq("add"));
            }
        }
    }

    [Fact]
    public void Workloads_Environment_IsWhatTheSiloInKubernetesHostingAccepts()
    {
        foreach (var (workload, container) in Containers())
        {
            var environment = PodEnvironment.Of(container);
            var silo = environment.SiloHost();

            Assert.True(silo.KubernetesHosting, $"{workload}: AGENTSEC_KUBERNETES_HOSTING is not true");
            var validation = new KubernetesHostingValidator(name => environment[name]).Validate(null, silo);
            Assert.True(validation.Succeeded, $"{workload}: {validation.FailureMessage}");
            Assert.Equal("metadata.name", FieldRef(environment, KubernetesHostingOptions.PodNameEnvironmentVariable));
            Assert.Equal("metadata.namespace", FieldRef(environment, KubernetesHostingOptions.PodNamespaceEnvironmentVariable));
            Assert.Equal("status.podIP", FieldRef(environment, KubernetesHostingOptions.PodIPEnvironmentVariable));

            // Every AGENTSEC_ variable is one the silo reads: a misspelt one would be silently ignored.
            foreach (var name in environment.Values.Keys.Where(n => n.StartsWith("AGENTSEC_", StringComparison.Ordinal)))
            {
                Assert.True(EnvironmentAliases.Map.ContainsKey(name), $"{workload}: {name} is not a variable the silo reads");
            }

            // The files the silo is told to read are in the volumes mounted there (TLS, because the pod listens beyond
            // loopback; the audit key, because outside development the silo refuses to start without one).
            foreach (var variable in new[] { "AGENTSEC_TLS_CERT", "AGENTSEC_TLS_KEY", "AGENTSEC_TLS_CA", "AGENTSEC_AUDIT_KEY" })
            {
                var path = environment[variable] ?? throw new Xunit.Sdk.XunitException($"{workload}: {variable} is not set");
                var (secret, key) = MountedSecretFile(workload, container, path);
                Assert.True(secret.Length > 0 && key.Length > 0, $"{workload}: {variable} {path} is not a file of a mounted secret");
            }
        }
    }

    [Fact]
    public void Workloads_PodLabels_AreTheSilosIdsAndEverySelectorFindsThem()
    {
        var workload = Assert.Single(KubernetesManifest.Workloads);
        var labels = workload.PodTemplate.Map("metadata").Pairs("labels");
        foreach (var container in workload.Containers)
        {
            var silo = PodEnvironment.Of(container).SiloHost();
            Assert.Equal(silo.ServiceId, labels.GetValueOrDefault(KubernetesHostingOptions.ServiceIdLabel));
            Assert.Equal(silo.ClusterId, labels.GetValueOrDefault(KubernetesHostingOptions.ClusterIdLabel));
        }

        var selectors = new List<(string Owner, IReadOnlyDictionary<string, string> Selector)>
        {
            (workload.ToString(), workload.Root.Map("spec").Map("selector").Pairs("matchLabels")),
        };
        selectors.AddRange(KubernetesManifest.OfKind("Service").Select(s => (s.ToString(), s.Root.Map("spec").Pairs("selector"))));
        selectors.AddRange(KubernetesManifest.OfKind("PodDisruptionBudget").Select(p => (p.ToString(), p.Root.Map("spec").Map("selector").Pairs("matchLabels"))));
        Assert.Contains(selectors, s => s.Owner.StartsWith("Service", StringComparison.Ordinal));
        Assert.Contains(selectors, s => s.Owner.StartsWith("PodDisruptionBudget", StringComparison.Ordinal));
        foreach (var (owner, selector) in selectors)
        {
            Assert.NotEmpty(selector);
            foreach (var (key, value) in selector)
            {
                Assert.True(labels.TryGetValue(key, out var label) && label == value, $"{owner} selects {key}={value}, which the silos' pods do not carry");
            }
        }
    }

    [Fact]
    public void Services_EveryPort_TargetsAPortOfTheSilosContainer()
    {
        var workload = Assert.Single(KubernetesManifest.Workloads);
        var container = Assert.Single(workload.Containers);
        var silo = PodEnvironment.Of(container).SiloHost();
        var targets = new List<int>();
        foreach (var service in KubernetesManifest.OfKind("Service"))
        {
            foreach (var port in service.Root.Map("spec").Seq("ports"))
            {
                targets.Add(ContainerPort(container, port.StrOrNull("targetPort") ?? port.Str("port")));
            }
        }

        Assert.Contains(silo.GatewayPort, targets);
        Assert.Contains(silo.HttpPort, targets);
        Assert.DoesNotContain(silo.SiloPort, targets); // silo to silo goes pod to pod, never through a Service
    }

    [Fact]
    public void Rbac_Role_GrantsExactlyWhatKubernetesHostingCallsToTheSilosServiceAccount()
    {
        var workload = Assert.Single(KubernetesManifest.Workloads);
        var account = workload.PodSpec.Str("serviceAccountName");
        Assert.Contains(KubernetesManifest.OfKind("ServiceAccount"), a => a.Name == account);
        Assert.DoesNotContain(KubernetesManifest.All, m => m.Kind is "ClusterRole" or "ClusterRoleBinding");

        var role = Assert.Single(KubernetesManifest.OfKind("Role"));
        var rule = Assert.Single(role.Root.Seq("rules"));
        Assert.Equal([""], rule.Strings("apiGroups"));
        Assert.Equal(["pods"], rule.Strings("resources"));
        Assert.Equal(HostingVerbs, rule.Strings("verbs").Order(StringComparer.Ordinal));
        Assert.Null(rule.Find("resourceNames"));

        var binding = Assert.Single(KubernetesManifest.OfKind("RoleBinding"));
        Assert.Equal("Role", binding.Root.Map("roleRef").Str("kind"));
        Assert.Equal(role.Name, binding.Root.Map("roleRef").Str("name"));
        var subject = Assert.Single(binding.Root.Seq("subjects"));
        Assert.Equal("ServiceAccount", subject.Str("kind"));
        Assert.Equal(account, subject.Str("name"));
        Assert.Equal(KubernetesManifest.Kustomization.Str("namespace"), subject.Str("namespace"));
    }

    [Fact]
    public void Workloads_ReferencedSecretsAndConfigMaps_AreNamedWithTheirKeysInOperationsDoc()
    {
        var operations = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs", "operations.md"));
        var referenced = new List<(string Name, string Key)>();
        foreach (var workload in KubernetesManifest.Workloads)
        {
            foreach (var volume in workload.PodSpec.Seq("volumes"))
            {
                if (volume.MapOrNull("secret") is { } secret)
                {
                    Assert.NotEmpty(secret.Seq("items")); // named keys only: a key missing from the secret fails the pod, not silently
                    referenced.AddRange(secret.Seq("items").Select(i => (secret.Str("secretName"), i.Str("key"))));
                    // Keys are read by the silo's user through fsGroup: never by other users, never written. Decimal only: YAML
                    // parsers disagree on a leading 0 (octal in YAML 1.1, decimal in 1.2).
                    var mode = int.Parse(secret.Str("defaultMode"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture);
                    Assert.False(secret.Str("defaultMode").StartsWith('0'), $"{workload}: defaultMode {secret.Str("defaultMode")} is ambiguous");
                    Assert.Equal(0, mode & 0b010_010_111); // no write for owner or group, nothing for others (0227)
                }
            }

            foreach (var container in workload.Containers)
            {
                foreach (var entry in PodEnvironment.Of(container).Entries.Values)
                {
                    if (entry.MapOrNull("valueFrom") is { } from && (from.MapOrNull("secretKeyRef") ?? from.MapOrNull("configMapKeyRef")) is { } reference)
                    {
                        referenced.Add((reference.Str("name"), reference.Str("key")));
                    }
                }
            }
        }

        Assert.Contains(referenced, r => r.Name == "agentsec-tls");
        foreach (var (name, key) in referenced)
        {
            Assert.True(operations.Contains($"`{name}`", StringComparison.Ordinal), $"docs/operations.md does not name `{name}`, which the silos read");
            Assert.True(operations.Contains($"`{key}`", StringComparison.Ordinal), $"docs/operations.md does not name the key `{key}` of {name}");
        }

        // Nothing secret is kept here: no Secret resources, and no literal value of a storage key or a private key.
        Assert.Empty(KubernetesManifest.OfKind("Secret"));
        foreach (var file in KubernetesManifest.ResourceFiles())
        {
            var text = File.ReadAllText(file);
            Assert.DoesNotContain("AccountKey=", text, StringComparison.Ordinal);
            Assert.DoesNotContain("PRIVATE KEY", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Workloads_ImageAndPorts_AreThoseOfTheDockerfileAndTheSilo()
    {
        var dockerfile = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "deploy", "Dockerfile"));
        var exposed = dockerfile.Where(l => l.StartsWith("EXPOSE ", StringComparison.Ordinal))
            .SelectMany(l => l["EXPOSE ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(int.Parse).Order().ToList();
        Assert.Contains(dockerfile, l => l.StartsWith("ENTRYPOINT", StringComparison.Ordinal) && l.Contains("AgentSecurity.Silo.dll", StringComparison.Ordinal));
        var version = Regex.Match(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "src", "Directory.Build.props")), "<VersionPrefix>([^<]+)</VersionPrefix>").Groups[1].Value;
        var image = Assert.Single(KubernetesManifest.Kustomization.Seq("images"));

        foreach (var (workload, container) in Containers())
        {
            var silo = PodEnvironment.Of(container).SiloHost();
            var ports = container.Seq("ports").Select(p => int.Parse(p.Str("containerPort"), System.Globalization.CultureInfo.InvariantCulture)).Order().ToList();
            Assert.Equal(exposed, ports);
            Assert.Equal(new[] { silo.SiloPort, silo.GatewayPort, silo.HttpPort }.Order(), ports);

            // The Dockerfile's entry point runs: no command or arguments of the manifest's own.
            Assert.Null(container.Find("command"));
            Assert.Null(container.Find("args"));
            Assert.Equal(image.Str("name"), container.Str("image"));
            Assert.Equal(version, image.Str("newTag"));
        }
    }

    private static List<(KubernetesManifest Workload, YamlNode Container)> Containers()
    {
        List<(KubernetesManifest Workload, YamlNode Container)> pairs = [.. KubernetesManifest.Workloads.SelectMany(w => w.Containers.Select(c => (w, c)))];
        Assert.NotEmpty(pairs);
        return pairs;
    }

    /// <summary>A port as a probe or a Service names it (by name or number), as the container's port number.</summary>
    private static int ContainerPort(YamlNode container, string port)
    {
        if (int.TryParse(port, System.Globalization.CultureInfo.InvariantCulture, out var number))
        {
            Assert.Contains(container.Seq("ports"), p => p.Str("containerPort") == port);
            return number;
        }

        var named = container.Seq("ports").SingleOrDefault(p => p.StrOrNull("name") == port)
            ?? throw new Xunit.Sdk.XunitException($"no container port named {port}");
        return int.Parse(named.Str("containerPort"), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string? FieldRef(PodEnvironment environment, string variable) =>
        environment.Entries.TryGetValue(variable, out var entry) ? entry.MapOrNull("valueFrom")?.MapOrNull("fieldRef")?.StrOrNull("fieldPath") : null;

    /// <summary>The secret and key whose file a container sees at <paramref name="path"/>, or empty strings.</summary>
    private static (string Secret, string Key) MountedSecretFile(KubernetesManifest workload, YamlNode container, string path)
    {
        foreach (var mount in container.Seq("volumeMounts"))
        {
            var directory = mount.Str("mountPath").TrimEnd('/') + "/";
            if (!path.StartsWith(directory, StringComparison.Ordinal))
            {
                continue;
            }

            var volume = workload.PodSpec.Seq("volumes").Single(v => v.Str("name") == mount.Str("name"));
            if (volume.MapOrNull("secret") is { } secret
                && secret.Seq("items").SingleOrDefault(i => i.Str("path") == path[directory.Length..]) is { } item)
            {
                Assert.Equal("true", mount.StrOrNull("readOnly"));
                return (secret.Str("secretName"), item.Str("key"));
            }
        }

        return ("", "");
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();
}
