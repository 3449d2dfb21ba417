using System.Text;
using AgentSecurity.Mcp.Upstreams;

namespace AgentSecurity.Mcp.Tests.Upstreams;

public sealed class BoundedLineStreamTests
{
    [Fact]
    public async Task ReadLines_EachLineWithinBound_AllRead()
    {
        var text = string.Join('\n', Enumerable.Range(0, 1000).Select(i => new string('x', 90))) + "\n";
        var overflowed = false;
        using var stream = new BoundedLineStream(new MemoryStream(Encoding.UTF8.GetBytes(text)), 100, () => overflowed = true);
        using var reader = new StreamReader(stream);

        Assert.Equal(text, await reader.ReadToEndAsync());
        Assert.False(overflowed);
    }

    [Fact]
    public async Task Read_EndlessLineAcrossReads_FailsAndSignalsOnce()
    {
        var calls = 0;
        using var stream = new BoundedLineStream(new EndlessStream(), 64 * 1024, () => calls++);
        using var reader = new StreamReader(stream);

        var failure = await Assert.ThrowsAsync<IOException>(() => reader.ReadLineAsync());

        Assert.Contains("65536 bytes", failure.Message, StringComparison.Ordinal);
        Assert.True(stream.Overflowed);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task Read_LongLineFollowedByNewlineInOneRead_Fails()
    {
        var bytes = Encoding.UTF8.GetBytes(new string('x', 500) + "\nshort\n");
        using var stream = new BoundedLineStream(new MemoryStream(bytes), 100, () => { });

        await Assert.ThrowsAsync<IOException>(() => stream.ReadAsync(new byte[4096]).AsTask());
    }

    /// <summary>An upstream that never ends its line.</summary>
    private sealed class EndlessStream : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            buffer.AsSpan(offset, count).Fill((byte)'x');
            return count;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
