using System.Text;
using AgentSecurity.Mcp.Upstreams;

namespace AgentSecurity.Mcp.Tests.Upstreams;

public sealed class BoundedResponseStreamTests
{
    private static async Task<(string Text, bool Overflowed)> ReadAsync(string body, long max, bool eventStream)
    {
        var overflowed = false;
        using var stream = new BoundedResponseStream(new MemoryStream(Encoding.UTF8.GetBytes(body)), max, eventStream, () => overflowed = true);
        using var reader = new StreamReader(stream);
        try
        {
            return (await reader.ReadToEndAsync(), overflowed);
        }
        catch (IOException)
        {
            return (string.Empty, overflowed);
        }
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    public async Task Read_ManyEventsEachWithinBound_AllRead(string newline)
    {
        var body = string.Concat(Enumerable.Range(0, 100).Select(_ => $"event: message{newline}data: {new string('x', 40)}{newline}{newline}"));

        var (text, overflowed) = await ReadAsync(body, 100, eventStream: true);

        Assert.Equal((body, false), (text, overflowed));
    }

    [Fact]
    public async Task Read_OneEventOfManyShortDataLines_FailsOnceTheEventIsOverTheBound()
    {
        var body = string.Concat(Enumerable.Range(0, 100).Select(_ => "data: xx\n"));

        Assert.Equal((string.Empty, true), await ReadAsync(body, 100, eventStream: true));
    }

    [Fact]
    public async Task Read_JsonAnswerOverTheBound_FailsWhateverItsLines()
    {
        var body = string.Concat(Enumerable.Range(0, 100).Select(_ => "  \"x\",\n\n"));

        Assert.Equal((string.Empty, true), await ReadAsync(body, 100, eventStream: false));
    }

    [Fact]
    public async Task Read_JsonAnswerWithinTheBound_Read() =>
        Assert.Equal(("{\"jsonrpc\":\"2.0\"}", false), await ReadAsync("{\"jsonrpc\":\"2.0\"}", 100, eventStream: false));
}
