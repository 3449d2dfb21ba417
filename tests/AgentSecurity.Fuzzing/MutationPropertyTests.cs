using AgentSecurity.Fuzzing.Targets;
using AgentSecurity.Grants.Documents;
using CsCheck;

namespace AgentSecurity.Fuzzing;

/// <summary>
/// Valid signed documents changed a few bytes at a time: no parser throws, and none accepts a document whose signature no
/// longer verifies for what it says (a change that still verifies may only be one of form, such as whitespace).
/// </summary>
public sealed class MutationPropertyTests
{
    private static readonly byte[][] Documents = [.. Seeds.All()["documents"].Values];

    private static readonly Gen<byte[]> Mutated =
        from document in Gen.Int[0, Documents.Length - 1].Select(i => Documents[i])
        from edits in Gen.Select(Gen.Int[0, 2], Gen.Int[0, int.MaxValue], Gen.Byte).Array[1, 4]
        select Mutate(document, edits);

    private static byte[] Mutate(byte[] document, (int Kind, int At, byte Value)[] edits)
    {
        var bytes = document.ToList();
        foreach (var (kind, at, value) in edits)
        {
            var index = at % (bytes.Count + 1);
            switch (kind)
            {
                case 0 when index < bytes.Count:
                    bytes[index] = value;
                    break;
                case 1:
                    bytes.Insert(index, value);
                    break;
                default:
                    if (index < bytes.Count)
                    {
                        bytes.RemoveAt(index);
                    }

                    break;
            }
        }

        return [.. bytes];
    }

    [Fact]
    public void Parse_MutatedDocument_NeverThrowsAndCanonicalFormMeansTheSame() =>
        Mutated.Sample(DocumentTarget.Run, iter: 20_000);

    [Fact]
    public void Parse_MutatedDocument_VerifiesOnlyIfItSaysWhatWasSigned()
    {
        var signed = Documents.Select(d => SignedDocument.Parse(d).Value.ContentHash).ToHashSet(StringComparer.Ordinal);
        Mutated.Sample(mutated =>
        {
            if (SignedDocument.Parse(mutated).TryGetValue(out var document) && document.HasValidSignature())
            {
                Assert.Contains(document.ContentHash, signed);
            }
        }, iter: 20_000);
    }
}
