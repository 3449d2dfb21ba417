using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.Metrics;
using System.IO.Pipelines;
using AgentSecurity.Grains.Boundary.Frames;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grains.Tests.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AgentSecurity.Grains.Tests.Boundary.Frames;

/// <summary>
/// The gate between a client's bytes and the gateway: the gateway reads them as Orleans does (the preamble, then frame
/// after frame, taking what arrived and waiting for the rest), and sees every allowed frame whole and no refused one,
/// however the bytes arrive.
/// </summary>
public sealed class ClientFrameReaderTests
{
    private readonly RecordingLoggerProvider _log = new();
    // No back-pressure: the test writes a whole conversation before the reader has taken it.
    private readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0));
    private readonly GatedConnection _connection;

    public ClientFrameReaderTests() =>
        _connection = new GatedConnection(
            TestFrames.Preambles, new AwaitedAnswers(new FakeTimeProvider(), TimeSpan.FromMinutes(10)), TestFrames.Silos, maxHeaderLength: 6144, maxBodyLength: 1 << 20,
            new AgentSecurityMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>()),
            _log.CreateLogger("gate"));

    private static readonly byte[] Preamble = TestFrames.Preamble(TestFrames.Client);

    private static byte[] Allowed(long id, int bodyLength = 40) => TestFrames.Frame(FrameDirection.Request, id, TestFrames.Client, TestFrames.Agent, bodyLength: bodyLength);

    private static byte[] Forged(long id, int bodyLength = 40) => TestFrames.Frame(FrameDirection.Request, id, TestFrames.OtherClient, TestFrames.Agent, bodyLength: bodyLength);

    private static byte[] Unasked(long id) => TestFrames.Frame(FrameDirection.Response, id, TestFrames.Observer, TestFrames.Agent);

    /// <summary>Writes <paramref name="bytes"/> in pieces of <paramref name="piece"/> bytes, and reads what the gateway is shown.</summary>
    private async Task<List<byte[]>> SendAsync(byte[] bytes, int piece)
    {
        var reading = ReadAsOrleansAsync(new ClientFrameReader(_pipe.Reader, _connection));
        for (var at = 0; at < bytes.Length; at += piece)
        {
            await _pipe.Writer.WriteAsync(bytes.AsMemory(at, Math.Min(piece, bytes.Length - at)));
        }

        await _pipe.Writer.CompleteAsync();
        return await reading.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>The preamble, then frames, read as Orleans' connection reads them: what is whole is taken, the rest waited for.</summary>
    private static async Task<List<byte[]>> ReadAsOrleansAsync(PipeReader reader, List<byte[]>? read = null)
    {
        read ??= [];
        var preambleRead = false;
        while (true)
        {
            var result = await reader.ReadAsync();
            var buffer = result.Buffer;
            while (TryTake(ref buffer, preambleRead, out var unit))
            {
                read.Add(unit);
                preambleRead = true;
            }

            if (result.IsCompleted)
            {
                Assert.True(buffer.IsEmpty, $"{buffer.Length} bytes shown that are no whole frame");
                await reader.CompleteAsync();
                return read;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static bool TryTake(ref ReadOnlySequence<byte> buffer, bool preambleRead, out byte[] unit)
    {
        unit = [];
        var lengths = preambleRead ? FrameHeader.PrefixLength : sizeof(int);
        if (buffer.Length < lengths)
        {
            return false;
        }

        var prefix = buffer.Slice(0, lengths).ToArray();
        var length = lengths + (preambleRead
            ? (long)BinaryPrimitives.ReadInt32LittleEndian(prefix) + BinaryPrimitives.ReadInt32LittleEndian(prefix.AsSpan(4))
            : BinaryPrimitives.ReadInt32LittleEndian(prefix));
        if (buffer.Length < length)
        {
            return false;
        }

        unit = buffer.Slice(0, length).ToArray();
        buffer = buffer.Slice(length);
        return true;
    }

    public static TheoryData<int> Pieces => [1, 3, 13, 64, 4096, 1 << 20];

    [Theory]
    [MemberData(nameof(Pieces))]
    public async Task ReadAsync_AllowedFrames_AreShownWholeAndInOrder(int piece)
    {
        byte[][] sent = [Preamble, Allowed(1), Allowed(2, bodyLength: 0), Allowed(3, bodyLength: 200_000), Allowed(4)];

        var read = await SendAsync(TestFrames.Concat(sent), piece);

        Assert.Equal(sent, read);
        Assert.Empty(_log.Entries);
    }

    [Theory]
    [MemberData(nameof(Pieces))]
    public async Task ReadAsync_AnswersToNothingAskedAnywhere_AreNeverShownAndTheRestIs(int piece)
    {
        byte[][] sent = [Preamble, Unasked(90), Allowed(1), Unasked(91), Unasked(92), Allowed(2, bodyLength: 200_000), Allowed(3), Unasked(93)];

        var read = await SendAsync(TestFrames.Concat(sent), piece);

        Assert.Equal([Preamble, Allowed(1), Allowed(2, bodyLength: 200_000), Allowed(3)], read);
        Assert.Equal(
            ["unasked_response (Response 90; its 1th refused)", "unasked_response (Response 91; its 2th refused)", "unasked_response (Response 92; its 3th refused)", "unasked_response (Response 93; its 4th refused)"],
            _log.Entries.Select(e => e.Message[(e.Message.IndexOf(": ", StringComparison.Ordinal) + 2)..]));
        Assert.All(_log.Entries, e => Assert.Equal(7004, e.EventId));
    }

    [Theory]
    [MemberData(nameof(Pieces))]
    public async Task ReadAsync_AFrameNoOrleansClientWrites_EndsTheConnectionWithoutShowingIt(int piece)
    {
        var shown = new List<byte[]>();
        var read = ReadAsOrleansAsync(new ClientFrameReader(_pipe.Reader, _connection), shown);
        var sent = TestFrames.Concat(Preamble, Allowed(1), Forged(90, bodyLength: 200_000), Allowed(2));
        for (var at = 0; at < sent.Length; at += piece)
        {
            await _pipe.Writer.WriteAsync(sent.AsMemory(at, Math.Min(piece, sent.Length - at)));
        }

        await _pipe.Writer.CompleteAsync();

        var ended = await Assert.ThrowsAsync<InvalidDataException>(() => read.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("forged_sender", ended.Message, StringComparison.Ordinal);
        Assert.Equal([Preamble, Allowed(1)], shown);
    }

    [Fact]
    public async Task ReadAsync_AFloodOfRefusedAnswers_LogsTheFirstOnesThenOneInAThousand()
    {
        var sent = new List<byte[]> { Preamble };
        sent.AddRange(Enumerable.Range(0, 2_500).Select(i => Unasked(i)));

        var read = await SendAsync(TestFrames.Concat([.. sent]), 65_536);

        Assert.Equal([Preamble], read);
        Assert.Equal(12, _log.Entries.Count);
    }

    [Fact]
    public async Task ReadAsync_AnAnswerToWhatTheSiloAsked_IsShownOnce()
    {
        var asked = new SiloFrameScanner(_connection.Awaited);
        asked.Scan(TestFrames.Concat(TestFrames.Preamble(GrainId.Create("sys.silo", "s1")), TestFrames.Frame(FrameDirection.Request, 55, TestFrames.Agent, TestFrames.Observer)));

        var read = await SendAsync(TestFrames.Concat(Preamble, Unasked(55), Unasked(55)), 7);

        Assert.Equal([Preamble, Unasked(55)], read);
        Assert.Single(_log.Entries);
    }

    [Fact]
    public async Task ReadAsync_OnlyRefusedFrames_ShowsThePreambleAndEndsWhenTheClientDoes()
    {
        var read = await SendAsync(TestFrames.Concat(Preamble, Unasked(1), Unasked(2), Unasked(3)), 5);

        Assert.Equal([Preamble], read);
        Assert.Equal(3, _log.Entries.Count);
    }

    public static TheoryData<int, int> BadLengths => new()
    {
        { 0, 10 },
        { -1, 10 },
        { 6145, 10 },
        { 40, -1 },
        { 40, (1 << 20) + 1 },
    };

    [Theory]
    [MemberData(nameof(BadLengths))]
    public async Task ReadAsync_LengthsOutOfBounds_EndTheConnection(int headerLength, int bodyLength)
    {
        var prefix = new byte[FrameHeader.PrefixLength];
        BinaryPrimitives.WriteInt32LittleEndian(prefix, headerLength);
        BinaryPrimitives.WriteInt32LittleEndian(prefix.AsSpan(4), bodyLength);

        await Assert.ThrowsAsync<InvalidDataException>(() => SendAsync(TestFrames.Concat(Preamble, Allowed(1), prefix, new byte[64]), 4096));
    }

    [Fact]
    public async Task ReadAsync_HeaderThatDoesNotParse_EndsTheConnection()
    {
        var header = TestFrames.Header(FrameDirection.Request, 1, TestFrames.Client, TestFrames.Agent, rest: 0)[..20];

        await Assert.ThrowsAsync<InvalidDataException>(() => SendAsync(TestFrames.Concat(Preamble, TestFrames.Frame(header)), 4096));
    }

    public static TheoryData<string, string> NotAClientsOwnId => new()
    {
        { "agentsec.agent", "t1/bot" },
        { "sys.client", "hosted-127.0.0.1:11111@1" },
        { "sys.client", TestFrames.ClientKey + "+0b5e7e7a" },
        { "sys.client", TestFrames.ClientKey.ToUpperInvariant() },
        { "sys.client", TestFrames.ClientKey[..31] + "g" },
        { "sys.clientx", TestFrames.ClientKey },
    };

    [Fact]
    public async Task ReadAsync_PreambleNamingItsIdWithAForgedHash_EndsTheConnection()
    {
        var key = TestFrames.Client.Key.AsSpan().ToArray();
        var forged = new GrainId(GrainTypePrefix.ClientGrainType, IdSpan.UnsafeCreate(key, TestFrames.Client.Key.GetHashCode() ^ 0x5A5A5A5A));

        await Assert.ThrowsAsync<InvalidDataException>(() => SendAsync(TestFrames.Concat(TestFrames.Preamble(forged), Allowed(1)), 4096));
    }

    [Theory]
    [MemberData(nameof(NotAClientsOwnId))]
    public async Task ReadAsync_PreambleNamingNoClientIdOfItsOwn_EndsTheConnection(string type, string key)
    {
        var preamble = TestFrames.Preamble(GrainId.Create(type, key));

        await Assert.ThrowsAsync<InvalidDataException>(() => SendAsync(TestFrames.Concat(preamble, Allowed(1)), 4096));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(ClientPreambles.MaxLength + 1)]
    public async Task ReadAsync_PreambleLengthOutOfBounds_EndsTheConnection(int length)
    {
        var prefix = new byte[sizeof(int)];
        BinaryPrimitives.WriteInt32LittleEndian(prefix, length);

        await Assert.ThrowsAsync<InvalidDataException>(() => SendAsync(TestFrames.Concat(prefix, new byte[2048]), 4096));
    }
}
