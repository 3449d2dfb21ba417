using AgentSecurity.Grants.Documents;

namespace AgentSecurity.Fuzzing.Targets;

/// <summary>
/// Signed documents, as a tenant's admin, an agent's host or anyone with a gateway may send them. Contract: every parser
/// answers with a result and never throws; a document that parses has a canonical form that parses to the same content
/// and signature verdict (so what is stored is what was verified).
/// </summary>
public static class DocumentTarget
{
    public static void Run(byte[] input)
    {
        _ = GrantDocument.Parse(input);
        _ = AdminDocument.Parse(input);
        _ = AccessDocument.Parse(input);
        _ = LimitsDocument.Parse(input);
        _ = QuarantineDocument.Parse(input);
        _ = RevocationDocument.Parse(input);
        _ = RotationDocument.Parse(input);
        _ = SessionDocument.Parse(input);
        _ = GrantTerms.ParseProposal(input, DateTimeOffset.UnixEpoch);
        if (!SignedDocument.Parse(input).TryGetValue(out var document))
        {
            return;
        }

        if (!SignedDocument.Parse(document.CanonicalText).TryGetValue(out var again))
        {
            throw new ContractViolationException($"the canonical form of a parsed document does not parse: {document.CanonicalText}");
        }

        if (again.ContentHash != document.ContentHash || again.HasValidSignature() != document.HasValidSignature())
        {
            throw new ContractViolationException($"the canonical form of a parsed document means something else: {document.CanonicalText}");
        }
    }
}
