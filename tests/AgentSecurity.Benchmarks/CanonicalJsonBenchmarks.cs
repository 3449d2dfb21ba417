using System.Text;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Json;
using BenchmarkDotNet.Attributes;

namespace AgentSecurity.Benchmarks;

/// <summary>
/// RFC 8785 canonical JSON of a typical grant (scopes and limits, about 700 bytes) against reading it: the canonical
/// text (what the cluster stores) and the signing input (what a signature covers, computed by every parse of a document).
/// </summary>
[MemoryDiagnoser]
public class CanonicalJsonBenchmarks
{
    private byte[] _utf8 = [];
    private JObject _grant = null!;

    [GlobalSetup]
    public void Setup()
    {
        var text = TypicalGrant.Signed(DateTimeOffset.UtcNow, """{"checksPerSecond":100,"llmTokensPerHour":100000,"fileBytesWrittenPerHour":10000000}""");
        _utf8 = Encoding.UTF8.GetBytes(text);
        _grant = (JObject)StrictJsonParser.Parse(_utf8).Value;
        if (JsonCanonicalizer.CanonicalizeToString(_grant) != text)
        {
            throw new InvalidOperationException("a signed test document is canonical: canonicalizing it should change nothing");
        }
    }

    [Benchmark(Baseline = true)]
    public JNode Parse() => StrictJsonParser.Parse(_utf8).Value;

    [Benchmark]
    public byte[] Canonicalize() => JsonCanonicalizer.Canonicalize(_grant);

    [Benchmark]
    public byte[] SigningInput() => SignedDocument.SigningInputOf(DocumentTypes.Grant, _grant);
}
