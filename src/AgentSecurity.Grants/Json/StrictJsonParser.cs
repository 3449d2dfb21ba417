using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace AgentSecurity.Grants.Json;

/// <summary>
/// An RFC 8259 parser that refuses what signed documents must not contain: invalid UTF-8, a byte order mark,
/// lone surrogates, duplicate member names at any depth, trailing content, nesting deeper than
/// <see cref="MaxDepth"/>. Failures carry <see cref="ReasonCodes.MalformedJson"/> or
/// <see cref="ReasonCodes.DuplicateMember"/>.
/// </summary>
public sealed class StrictJsonParser
{
    /// <summary>Documents are at most four levels deep; the bound keeps recursion cheap on hostile input.</summary>
    public const int MaxDepth = 32;

    private readonly string _text;
    private int _position;

    private StrictJsonParser(string text)
    {
        _text = text;
    }

    public static Result<JNode> Parse(ReadOnlySpan<byte> utf8)
    {
        if (!Utf8.IsValid(utf8))
        {
            return Result<JNode>.Fail(ReasonCodes.MalformedJson, "the document is not valid UTF-8");
        }

        if (utf8.StartsWith("\uFEFF"u8))
        {
            return Result<JNode>.Fail(ReasonCodes.MalformedJson, "the document starts with a byte order mark");
        }

        return Parse(System.Text.Encoding.UTF8.GetString(utf8));
    }

    public static Result<JNode> Parse(string text)
    {
        var parser = new StrictJsonParser(text);
        try
        {
            parser.SkipWhitespace();
            var root = parser.ReadValue(depth: 0);
            parser.SkipWhitespace();
            if (parser._position != text.Length)
            {
                throw parser.Malformed("unexpected content after the JSON value");
            }

            return Result<JNode>.Ok(root);
        }
        catch (JsonSyntaxException e)
        {
            return Result<JNode>.Fail(e.Code, e.Message);
        }
    }

    private JNode ReadValue(int depth)
    {
        if (depth > MaxDepth)
        {
            throw Malformed($"nesting deeper than {MaxDepth}");
        }

        return Peek() switch
        {
            '{' => ReadObject(depth),
            '[' => ReadArray(depth),
            '"' => new JString(ReadString()),
            't' => ReadLiteral("true", JBool.True),
            'f' => ReadLiteral("false", JBool.False),
            'n' => ReadLiteral("null", JNull.Instance),
            '-' or (>= '0' and <= '9') => ReadNumber(),
            _ => throw Malformed("expected a JSON value"),
        };
    }

    private JObject ReadObject(int depth)
    {
        _position++; // {
        var members = new List<KeyValuePair<string, JNode>>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        SkipWhitespace();
        if (TryConsume('}'))
        {
            return new JObject(members);
        }

        while (true)
        {
            SkipWhitespace();
            if (Peek() != '"')
            {
                throw Malformed("expected a member name");
            }

            var name = ReadString();
            if (!names.Add(name))
            {
                throw new JsonSyntaxException(ReasonCodes.DuplicateMember, $"member \"{name}\" appears twice");
            }

            SkipWhitespace();
            Expect(':');
            SkipWhitespace();
            members.Add(new(name, ReadValue(depth + 1)));
            SkipWhitespace();
            if (TryConsume('}'))
            {
                return new JObject(members);
            }

            Expect(',');
        }
    }

    private JArray ReadArray(int depth)
    {
        _position++; // [
        var items = new List<JNode>();
        SkipWhitespace();
        if (TryConsume(']'))
        {
            return new JArray(items);
        }

        while (true)
        {
            SkipWhitespace();
            items.Add(ReadValue(depth + 1));
            SkipWhitespace();
            if (TryConsume(']'))
            {
                return new JArray(items);
            }

            Expect(',');
        }
    }

    private string ReadString()
    {
        _position++; // opening quote
        var builder = new StringBuilder();
        while (true)
        {
            if (_position >= _text.Length)
            {
                throw Malformed("unterminated string");
            }

            var c = _text[_position++];
            switch (c)
            {
                case '"':
                    return builder.ToString();
                case '\\':
                    builder.Append(ReadEscape());
                    break;
                case < ' ':
                    throw Malformed("control character in a string");
                case var _ when char.IsHighSurrogate(c) && _position < _text.Length && char.IsLowSurrogate(_text[_position]):
                    builder.Append(c).Append(_text[_position++]);
                    break;
                case var _ when char.IsSurrogate(c):
                    throw Malformed("lone surrogate in a string");
                default:
                    builder.Append(c);
                    break;
            }
        }
    }

    private string ReadEscape()
    {
        if (_position >= _text.Length)
        {
            throw Malformed("unterminated escape");
        }

        var c = _text[_position++];
        switch (c)
        {
            case '"': return "\"";
            case '\\': return "\\";
            case '/': return "/";
            case 'b': return "\b";
            case 'f': return "\f";
            case 'n': return "\n";
            case 'r': return "\r";
            case 't': return "\t";
            case 'u':
                var unit = ReadHex4();
                if (char.IsLowSurrogate(unit))
                {
                    throw Malformed("lone low surrogate");
                }

                if (!char.IsHighSurrogate(unit))
                {
                    return unit.ToString();
                }

                if (_position + 1 < _text.Length && _text[_position] == '\\' && _text[_position + 1] == 'u')
                {
                    _position += 2;
                    var low = ReadHex4();
                    if (char.IsLowSurrogate(low))
                    {
                        return new string([unit, low]);
                    }
                }

                throw Malformed("lone high surrogate");
            default:
                throw Malformed($"invalid escape \\{c}");
        }
    }

    private char ReadHex4()
    {
        if (_position + 4 > _text.Length ||
            !ushort.TryParse(_text.AsSpan(_position, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
        {
            throw Malformed("invalid \\u escape");
        }

        _position += 4;
        return (char)value;
    }

    private JNumber ReadNumber()
    {
        var start = _position;
        TryConsume('-');
        if (TryConsume('0'))
        {
            // A leading zero stands alone.
        }
        else if (!ReadDigits())
        {
            throw Malformed("invalid number");
        }

        if (TryConsume('.') && !ReadDigits())
        {
            throw Malformed("invalid number: digits must follow the decimal point");
        }

        if (TryConsume('e') || TryConsume('E'))
        {
            _ = TryConsume('+') || TryConsume('-');
            if (!ReadDigits())
            {
                throw Malformed("invalid number: digits must follow the exponent");
            }
        }

        // I-JSON (RFC 7493), which JCS assumes: a number beyond a double's range has no canonical form, and must be
        // refused here, before anything tries to sign or canonicalize it.
        var text = _text[start.._position];
        return double.IsFinite(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture))
            ? new JNumber(text)
            : throw Malformed("invalid number: beyond the range of an IEEE 754 double");
    }

    private bool ReadDigits()
    {
        var start = _position;
        while (_position < _text.Length && char.IsAsciiDigit(_text[_position]))
        {
            _position++;
        }

        return _position > start;
    }

    private JNode ReadLiteral(string literal, JNode value)
    {
        if (string.CompareOrdinal(_text, _position, literal, 0, literal.Length) != 0)
        {
            throw Malformed("invalid literal");
        }

        _position += literal.Length;
        return value;
    }

    private void SkipWhitespace()
    {
        while (_position < _text.Length && _text[_position] is ' ' or '\t' or '\n' or '\r')
        {
            _position++;
        }
    }

    private char Peek() => _position < _text.Length ? _text[_position] : '\0';

    private bool TryConsume(char c)
    {
        if (Peek() == c && _position < _text.Length)
        {
            _position++;
            return true;
        }

        return false;
    }

    private void Expect(char c)
    {
        if (!TryConsume(c))
        {
            throw Malformed($"expected '{c}'");
        }
    }

    private JsonSyntaxException Malformed(string what) =>
        new(ReasonCodes.MalformedJson, $"{what} at offset {_position}");

    /// <summary>Internal control flow of the parser only; never escapes <see cref="Parse(string)"/>.</summary>
    private sealed class JsonSyntaxException(string code, string message) : Exception(message)
    {
        public string Code { get; } = code;
    }
}
