using System.Text;
using AgentSecurity.Sandbox.Processes;

namespace AgentSecurity.Sandbox.Tests.Processes;

/// <summary>The cap on one line of a server's output, over every way lines can fall into reads.</summary>
public sealed class LineCappedStreamTests
{
    [Theory]
    [InlineData("abcde\nfghij\n", true)]          // each line at the cap
    [InlineData("abcde\nfghij", true)]            // a last line at the cap, not yet ended
    [InlineData("abcdef\n", false)]               // the first line past it
    [InlineData("ab\nabcdefgh\nab\n", false)]     // a line between two others past it
    [InlineData("ab\nab\nabcdefgh", false)]       // the unfinished last line past it
    public async Task ReadAsync_LinesAgainstTheCap_PassWholeOrEndWithoutTheLongOne(string text, bool fits)
    {
        foreach (var chunk in new[] { 1, 3, 64 })
        {
            var overflowed = 0;
            using var stream = new LineCappedStream(new ChunkedStream(Encoding.ASCII.GetBytes(text), chunk), 5, () => overflowed++);

            using var passed = new MemoryStream();
            await stream.CopyToAsync(passed);

            Assert.Equal(fits ? 0 : 1, overflowed);
            Assert.Equal(fits, Encoding.ASCII.GetString(passed.ToArray()) == text);
            Assert.DoesNotContain(Encoding.ASCII.GetString(passed.ToArray()).Split('\n'), l => l.Length > 5);
        }
    }

    /// <summary>A stream that hands out its bytes a few at a time, as a pipe may.</summary>
    private sealed class ChunkedStream(byte[] bytes, int chunk) : MemoryStream(bytes)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(chunk, buffer.Length)], cancellationToken);
    }
}
