using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace AgentSecurity.Hosting.Http;

/// <summary>
/// Reads a JSON request body within the API's size limit: a body that says it is larger is refused unread, one that
/// turns out larger is refused once the limit is passed, so a request never costs more memory than the limit.
/// </summary>
internal static class JsonRequestBody
{
    /// <summary>The body's bytes, or the answer to give instead (415 not JSON, 413 too large).</summary>
    public static async Task<(byte[]? Body, IResult? Refusal)> ReadAsync(HttpRequest request, int maxBytes, CancellationToken cancellation)
    {
        if (!IsJson(request.ContentType))
        {
            return (null, HttpErrors.NotJson());
        }

        if (request.ContentLength > maxBytes)
        {
            return (null, HttpErrors.TooLarge($"a request body is at most {maxBytes} bytes, not {request.ContentLength}"));
        }

        using var body = new MemoryStream(capacity: (int)Math.Min(request.ContentLength ?? 4096, maxBytes));
        var chunk = new byte[Math.Min(16 * 1024, maxBytes + 1)];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellation)) > 0)
        {
            if (body.Length + read > maxBytes)
            {
                return (null, HttpErrors.TooLarge($"a request body is at most {maxBytes} bytes"));
            }

            body.Write(chunk, 0, read);
        }

        return (body.ToArray(), null);
    }

    /// <summary><c>application/json</c>, in UTF-8 if a charset is named (AuthZEN 1.0 §10.1 and RFC 8259 §8.1).</summary>
    public static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media)
        && media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        && (!media.Charset.HasValue || media.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));
}
