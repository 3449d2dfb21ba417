using System.Text;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Testing;

namespace AgentSecurity.Fuzzing;

/// <summary>
/// The valid inputs a fuzzer starts from, one small file per shape (Inputs/TARGET/seeds). Signatures are deterministic, so
/// writing them again gives the same files: <c>dotnet AgentSecurity.Fuzzing.dll --write-seeds tests/AgentSecurity.Fuzzing/Inputs</c>.
/// </summary>
public static class Seeds
{
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, byte[]>> All()
    {
        var at = TestDocuments.Epoch;
        var root = TestKeys.Root;
        var documents = new Dictionary<string, string>
        {
            ["grant-v1.json"] = TestDocuments.Grant("acme", "bot", at).SignWith(root),
            ["grant-v2.json"] = TestDocuments.GrantV2("acme", "bot", at, ["fs/*", "github/create_issue"], """{"approve":["fs/write_*"]}""").SignWith(root),
            ["admin-v2.json"] = TestDocuments.AdminV2("acme", TestKeys.OtherRoot.Did.Value, at, """{"fileSystem":"read","tools":["fs/*"]}""", at.AddDays(30)).SignWith(root),
            ["access.json"] = TestDocuments.Access("acme", TestKeys.Stranger.Did.Value, at, "acc-1", "check", "execute").SignWith(root),
            ["session.json"] = TestDocuments.Session(TestKeys.Stranger.Did.Value, "agentsec:cluster-1", at).SignWith(TestKeys.Stranger),
            ["quarantine.json"] = TestDocuments.Quarantine("acme", "bot", at).SignWith(root),
            ["revocation.json"] = TestDocuments.Revocation("acme", "g-1", at).SignWith(root),
            ["limits.json"] = TestDocuments.Limits("acme", at, """{"checksPerSecond":100}""").SignWith(TestKeys.Operator),
        };
        SecurityEvent[] events =
        [
            new DecisionEvent { Id = "e-1", Type = SecurityEventTypes.CheckDenied, TenantId = "acme", AgentId = "bot", Time = at, Capability = "fileSystem:read", Resource = "/etc/passwd", GrantId = "g-1", Reason = "out_of_scope" },
            new ToolEvent { Id = "e-2", Type = SecurityEventTypes.ToolCalled, TenantId = "acme", AgentId = "bot", Time = at, Server = "fs", Tool = "read_text_file", DefinitionHash = "sha256:" + new string('0', 64) },
            new AdministrativeEvent { Id = "e-3", Type = SecurityEventTypes.GrantApplied, TenantId = "acme", AgentId = "bot", Time = at, GrantId = "g-1", SignerDid = root.Did.Value },
            new AlertEvent { Id = "e-4", Type = SecurityEventTypes.AlertRaised, TenantId = "acme", Time = at, Count = 12, Action = "quarantine" },
        ];
        return new Dictionary<string, IReadOnlyDictionary<string, byte[]>>
        {
            ["documents"] = documents.ToDictionary(d => d.Key, d => Encoding.UTF8.GetBytes(d.Value)),
            ["events"] = events.Select((e, i) => (Name: $"{e.Type}.json", Bytes: Encoding.UTF8.GetBytes(SecurityEventJson.Write(e)))).ToDictionary(e => e.Name, e => e.Bytes),
            ["host-calls"] = new Dictionary<string, byte[]>
            {
                ["fs-read.json"] = Encoding.UTF8.GetBytes("""{"op":"fs.read","arg":"/workspace/a.txt"}"""),
                ["fs-write.json"] = Encoding.UTF8.GetBytes("""{"op":"fs.write","arg":"/workspace/b.txt","arg2":"text\nwith \u00e9"}"""),
                ["memory-get.json"] = Encoding.UTF8.GetBytes("""{"op":"memory.get","arg":"notes/x","arg2":null}"""),
            },
        };
    }

    public static void Write(string inputs)
    {
        foreach (var (target, files) in All())
        {
            var folder = Directory.CreateDirectory(Path.Combine(inputs, target, "seeds")).FullName;
            foreach (var (name, bytes) in files)
            {
                File.WriteAllBytes(Path.Combine(folder, name), bytes);
            }
        }
    }
}
