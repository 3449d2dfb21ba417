using AgentSecurity.Mcp.CommandLine;

namespace AgentSecurity.Mcp.Tests.CommandLine;

public sealed class CommandLineSplitterTests
{
    [Theory]
    [InlineData("node index.js /tmp/root", new[] { "node", "index.js", "/tmp/root" })]
    [InlineData("  node   a\tb  ", new[] { "node", "a", "b" })]
    [InlineData("node 'a b' \"c d\"", new[] { "node", "a b", "c d" })]
    [InlineData("node a\\ b", new[] { "node", "a b" })]
    [InlineData("node 'it''s'", new[] { "node", "its" })]
    [InlineData("node \"say \\\"hi\\\" \\\\ \\n\"", new[] { "node", "say \"hi\" \\ \\n" })]
    [InlineData("node 'no \\ escape'", new[] { "node", "no \\ escape" })]
    [InlineData("node ''", new[] { "node", "" })]
    [InlineData("node a\"b c\"d", new[] { "node", "ab cd" })]
    public void Split_QuotesAndBackslashes_WordsAsAShellWould(string commandLine, string[] expected) =>
        Assert.Equal(expected, CommandLineSplitter.Split(commandLine));

    [Theory]
    [InlineData("echo $HOME ~ *.js; rm -rf / | cat")]
    public void Split_ShellSyntax_NothingExpandedOrInterpreted(string commandLine) =>
        Assert.Equal(["echo", "$HOME", "~", "*.js;", "rm", "-rf", "/", "|", "cat"], CommandLineSplitter.Split(commandLine));

    [Theory]
    [InlineData("node 'open")]
    [InlineData("node \"open")]
    [InlineData("node trailing\\")]
    public void Split_UnclosedQuoteOrTrailingBackslash_Throws(string commandLine) =>
        Assert.Throws<FormatException>(() => CommandLineSplitter.Split(commandLine));

    [Fact]
    public void Split_Empty_NoWords() => Assert.Empty(CommandLineSplitter.Split("   "));
}
