using AgentSecurity.Grants.Crypto;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Encoding;
using AgentSecurity.Grants.Json;

namespace AgentSecurity.Testing;

/// <summary>
/// A document under construction for tests: start from a valid one, change, add or remove members, then
/// sign it properly, so that each test exercises exactly one defect.
/// </summary>
public sealed class DocumentTemplate
{
    private readonly List<KeyValuePair<string, JNode>> _members = [];

    public DocumentTemplate(string type)
    {
        Set("type", type);
    }

    public DocumentTemplate Set(string name, JNode value)
    {
        var index = _members.FindIndex(m => m.Key == name);
        if (index >= 0)
        {
            _members[index] = new(name, value);
        }
        else
        {
            _members.Add(new(name, value));
        }

        return this;
    }

    public DocumentTemplate Set(string name, string value) => Set(name, new JString(value));

    public DocumentTemplate Set(string name, DateTimeOffset time) => Set(name, DocumentTime.ToText(time));

    /// <summary>Sets a member from JSON text, e.g. <c>SetJson("capabilities", "{...}")</c>.</summary>
    public DocumentTemplate SetJson(string name, string json) => Set(name, Json(json));

    public DocumentTemplate Remove(string name)
    {
        _members.RemoveAll(m => m.Key == name);
        return this;
    }

    /// <summary>Signs with the key (setting <c>signedBy</c> to its DID unless already set) and returns the JSON text.</summary>
    public string SignWith(SigningKey key)
    {
        if (!_members.Exists(m => m.Key == "signedBy"))
        {
            Set("signedBy", key.Did.Value);
        }

        Remove("signature");
        var body = new JObject(_members.ToList());
        var type = ((JString)body["type"]!).Value;
        var signature = key.Sign(SignedDocument.SigningInputOf(type, body));
        return JsonCanonicalizer.CanonicalizeToString(new JObject([.. _members, new("signature", new JString(Base64Url.Encode(signature)))]));
    }

    public static JNode Json(string text)
    {
        var parsed = StrictJsonParser.Parse(text);
        return parsed.Succeeded ? parsed.Value : throw new ArgumentException(parsed.Failure!.ToString(), nameof(text));
    }
}
