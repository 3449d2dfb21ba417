using AgentSecurity.Grants.Crypto;
using AgentSecurity.Grants.Encoding;
using AgentSecurity.Grants.Json;

namespace AgentSecurity.Grants.Documents;

/// <summary>
/// Builds and signs documents. Signing tools (the command line, tests, client apps) use it; the cluster
/// never holds a grantor's key.
/// </summary>
public sealed class DocumentSigner
{
    private readonly List<KeyValuePair<string, JNode>> _members = [];
    private readonly string _type;

    public DocumentSigner(string type)
    {
        _type = type;
        _members.Add(new("type", new JString(type)));
    }

    public DocumentSigner Add(string name, JNode value)
    {
        _members.Add(new(name, value));
        return this;
    }

    public DocumentSigner Add(string name, string value) => Add(name, new JString(value));

    public DocumentSigner Add(string name, DateTimeOffset time) => Add(name, DocumentTime.ToText(time));

    public DocumentSigner AddIfPresent(string name, string? value) => value is null ? this : Add(name, value);

    public DocumentSigner AddIfPresent(string name, JNode? value) => value is null ? this : Add(name, value);

    /// <summary>Sets <c>signedBy</c> to the key's DID, signs, and returns the canonical text of the signed document.</summary>
    public string Sign(SigningKey key)
    {
        var body = new JObject([.. _members, new("signedBy", new JString(key.Did.Value))]);
        var signature = key.Sign(SignedDocument.SigningInputOf(_type, body));
        var signed = new JObject([.. body.Members, new("signature", new JString(Base64Url.Encode(signature)))]);
        return JsonCanonicalizer.CanonicalizeToString(signed);
    }

    /// <summary>A <c>capabilities</c> object with all six members.</summary>
    public static JObject Capabilities(Grants.Capabilities.CapabilitySet capabilities) => new(
    [
        new("fileSystem", new JString(Grants.Capabilities.CapabilityNames.Name(capabilities.FileSystem))),
        new("network", new JString(Grants.Capabilities.CapabilityNames.Name(capabilities.Network))),
        new("memory", new JString(Grants.Capabilities.CapabilityNames.Name(capabilities.Memory))),
        new("subprocess", JBool.Of(capabilities.Subprocess)),
        new("vectorDb", JBool.Of(capabilities.VectorDb)),
        new("llm", JBool.Of(capabilities.Llm)),
    ]);

    public static JArray StringArray(IEnumerable<string> values) => new(values.Select(v => (JNode)new JString(v)).ToList());

    public static JNumber Number(long value) =>
        new(value.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
