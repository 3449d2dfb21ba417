using System.Text;

namespace AgentSecurity.Mcp.CommandLine;

/// <summary>
/// Splits a command line into words the way a POSIX shell does, without a shell: whitespace separates words; single
/// quotes keep everything literally; double quotes keep everything but <c>\"</c> and <c>\\</c>; a backslash outside quotes
/// keeps the next character. Nothing is expanded (no <c>$VAR</c>, <c>~</c>, globs, <c>;</c>, pipes): the words are passed to
/// the program as they are, so an upstream's command line cannot smuggle in a second command.
/// </summary>
public static class CommandLineSplitter
{
    /// <summary>The words of <paramref name="commandLine"/>; throws <see cref="FormatException"/> for an unclosed quote or a trailing backslash.</summary>
    public static IReadOnlyList<string> Split(string commandLine)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < commandLine.Length; i++)
        {
            var c = commandLine[i];
            switch (c)
            {
                case ' ' or '\t' or '\n' or '\r':
                    if (inWord)
                    {
                        words.Add(word.ToString());
                        word.Clear();
                        inWord = false;
                    }

                    break;
                case '\'':
                    inWord = true;
                    var close = commandLine.IndexOf('\'', i + 1);
                    if (close < 0)
                    {
                        throw new FormatException($"unclosed single quote at position {i} of the command");
                    }

                    word.Append(commandLine, i + 1, close - i - 1);
                    i = close;
                    break;
                case '"':
                    inWord = true;
                    i = ReadDoubleQuoted(commandLine, i, word);
                    break;
                case '\\':
                    inWord = true;
                    if (i + 1 >= commandLine.Length)
                    {
                        throw new FormatException("a backslash ends the command: it escapes nothing");
                    }

                    word.Append(commandLine[++i]);
                    break;
                default:
                    inWord = true;
                    word.Append(c);
                    break;
            }
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        return words;
    }

    /// <summary>Appends the content of the double-quoted part opening at <paramref name="open"/>; returns the closing quote's index.</summary>
    private static int ReadDoubleQuoted(string text, int open, StringBuilder word)
    {
        for (var i = open + 1; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '"')
            {
                return i;
            }

            // As in sh: inside double quotes a backslash escapes only ", \ (and $ and `, which mean nothing here).
            if (c == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\\' or '$' or '`')
            {
                word.Append(text[++i]);
                continue;
            }

            word.Append(c);
        }

        throw new FormatException($"unclosed double quote at position {open} of the command");
    }
}
