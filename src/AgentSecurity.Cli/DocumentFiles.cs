using System.Text;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;

namespace AgentSecurity.Cli;

/// <summary>Reads signed documents from files (or <c>-</c> for standard input) without repairing anything.</summary>
internal static class DocumentFiles
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The document's text; a failure carries a document code (too large, not UTF-8) or <c>usage</c>.</summary>
    public static Result<string> Read(string path)
    {
        byte[] bytes;
        try
        {
            if (path == "-")
            {
                using var stdin = Console.OpenStandardInput();
                using var buffer = new MemoryStream();
                stdin.CopyTo(buffer);
                bytes = buffer.ToArray();
            }
            else
            {
                // Anything much larger than a document is refused before it is read whole.
                if (new FileInfo(path).Length > DocumentTypes.MaxDocumentBytes * 4L)
                {
                    return Result<string>.Fail(ReasonCodes.TooLarge, $"{path} is larger than any document ({DocumentTypes.MaxDocumentBytes} bytes at most)");
                }

                bytes = File.ReadAllBytes(path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Result<string>.Fail(CliOutput.UsageError, $"cannot read {path}: {e.Message}");
        }

        try
        {
            return Result<string>.Ok(StrictUtf8.GetString(bytes));
        }
        catch (DecoderFallbackException)
        {
            return Result<string>.Fail(ReasonCodes.MalformedJson, $"{path} is not valid UTF-8");
        }
    }
}
