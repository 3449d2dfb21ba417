using System.Text.Json;
using AgentSecurity.Grants;

namespace AgentSecurity.Sandbox.Host;

/// <summary>
/// The native sandbox's host protocol, one line each way: a request is a JSON object with a string <c>op</c> and optional
/// string (or null) <c>arg</c> and <c>arg2</c>; a reply is <c>{"ok": true, "value": ...}</c> or
/// <c>{"ok": false, "error": code, "message": ..., "denied": bool}</c>. A line comes from agent code, so reading one
/// never throws: anything else is <c>invalid_request</c>. The JavaScript worker speaks the other side of it
/// (<see cref="WriteRequest"/>, <see cref="ParseReply"/>).
/// </summary>
public static class HostCallLine
{
    public static Result<HostCall> Parse(ReadOnlySpan<byte> line)
    {
        try
        {
            var reader = new Utf8JsonReader(line);
            using var request = JsonDocument.ParseValue(ref reader);
            var root = request.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("op", out var op) || op.ValueKind != JsonValueKind.String)
            {
                return Result<HostCall>.Fail(ReasonCodes.InvalidRequest, "a request is a JSON object with a string \"op\"");
            }

            if (reader.Read())
            {
                return Result<HostCall>.Fail(ReasonCodes.InvalidRequest, "a request is one JSON object, with nothing after it");
            }

            return Text(root, "arg", out var argument) && Text(root, "arg2", out var second)
                ? Result<HostCall>.Ok(new HostCall(op.GetString()!, argument, second))
                : Result<HostCall>.Fail(ReasonCodes.InvalidRequest, "\"arg\" and \"arg2\" are strings or null");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a string that is not UTF-8, found when it is read.
            return Result<HostCall>.Fail(ReasonCodes.InvalidRequest, "a request is one line of JSON with \"op\" and optional string \"arg\" and \"arg2\"");
        }
    }

    /// <summary>The reply's line, newline included.</summary>
    public static byte[] Write(HostReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteBoolean("ok", reply.Ok);
            if (reply.Ok)
            {
                writer.WriteString("value", reply.Value);
            }
            else
            {
                writer.WriteString("error", reply.Error);
                writer.WriteString("message", reply.Message);
                writer.WriteBoolean("denied", reply.Denied);
            }

            writer.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>The request's line, newline included: what a sandboxed program writes.</summary>
    public static byte[] WriteRequest(HostCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("op", call.Operation);
            writer.WriteString("arg", call.Argument);
            writer.WriteString("arg2", call.Second);
            writer.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>A reply line as a sandboxed program reads it; one that is not a reply is a failure, never a value.</summary>
    public static HostReply ParseReply(ReadOnlySpan<byte> line)
    {
        try
        {
            using var reply = JsonDocument.Parse(line.ToArray());
            var root = reply.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("ok", out var ok) && ok.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                if (ok.GetBoolean())
                {
                    return Text(root, "value", out var value) ? HostReply.Success(value) : Malformed;
                }

                if (Text(root, "error", out var error) && error is not null && Text(root, "message", out var message))
                {
                    var denied = root.TryGetProperty("denied", out var flag) && flag.ValueKind == JsonValueKind.True;
                    return HostReply.Fail(error, message ?? string.Empty) with { Denied = denied };
                }
            }

            return Malformed;
        }
        catch (JsonException)
        {
            return Malformed;
        }
    }

    private static HostReply Malformed => HostReply.Fail(ReasonCodes.Unavailable, "the host's reply could not be read");

    private static bool Text(JsonElement root, string name, out string? text)
    {
        text = null;
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        text = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        return value.ValueKind == JsonValueKind.String;
    }
}
