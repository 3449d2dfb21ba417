namespace AgentSecurity.Grants.Documents;

/// <summary>The frame every typed document parser shares: envelope of the expected type, members, failures as results.</summary>
internal static class DocumentParsing
{
    public static Result<T> Parse<T>(ReadOnlySpan<byte> utf8, string type, Func<SignedDocument, MemberReader, T> read)
    {
        try
        {
            var envelope = SignedDocument.ParseOfType(utf8, type);
            return Result<T>.Ok(read(envelope, new MemberReader(envelope.Body, string.Empty, DocumentTypes.Members[type])));
        }
        catch (DocumentFormatException e)
        {
            return e.ToFailure();
        }
    }
}
