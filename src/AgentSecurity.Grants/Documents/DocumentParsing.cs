namespace AgentSecurity.Grants.Documents;

/// <summary>The frame every typed document parser shares: envelope of the expected type, members, failures as results.</summary>
internal static class DocumentParsing
{
    public static Result<T> Parse<T>(ReadOnlySpan<byte> utf8, string type, Func<SignedDocument, MemberReader, T> read) =>
        Parse(utf8, [type], read);

    /// <summary>The frame for a document with several versions: any of <paramref name="types"/>, each read with its own members.</summary>
    public static Result<T> Parse<T>(ReadOnlySpan<byte> utf8, string[] types, Func<SignedDocument, MemberReader, T> read)
    {
        try
        {
            var envelope = SignedDocument.ParseOfTypes(utf8, types);
            var type = envelope.Type;
            return Result<T>.Ok(read(envelope, new MemberReader(envelope.Body, string.Empty, DocumentTypes.Members[type])));
        }
        catch (DocumentFormatException e)
        {
            return e.ToFailure();
        }
    }
}
