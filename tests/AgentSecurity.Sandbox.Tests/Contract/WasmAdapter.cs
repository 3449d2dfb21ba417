using System.Text;
using AgentSecurity.Sandbox.Host;
using AgentSecurity.Sandbox.Tests.Wasm;
using AgentSecurity.Sandbox.Wasm;

namespace AgentSecurity.Sandbox.Tests.Contract;

/// <summary>The contract's programs as WebAssembly text on the host ABI (<see cref="WasmHostAbi"/>), in one page of memory.</summary>
internal sealed class WasmAdapter : RuntimeAdapter
{
    // Where the generated modules keep things: the calls' strings from 0, the last reply, then fixed texts.
    private const int ReplyAt = 32768;
    private const int ReplyCapacity = 16384;
    private const int OkAt = 49152;
    private const int DeniedAt = OkAt + 8;
    private const int FailedAt = OkAt + 16;
    private const int NewlineAt = OkAt + 24;
    private const int Chunk = 1024;

    /// <summary>Writes the line of one call from its status and the reply (see <see cref="RuntimeAdapter.Call"/>).</summary>
    private static readonly string Line = $$"""
        (func $line (param $status i32) (local $n i32) (local $i i32)
          (local.set $n (call $reply (i32.const {{ReplyAt}}) (i32.const {{ReplyCapacity}})))
          (if (i32.gt_u (local.get $n) (i32.const {{ReplyCapacity}})) (then (local.set $n (i32.const {{ReplyCapacity}}))))
          (if (i32.eq (local.get $status) (i32.const {{WasmHostAbi.StatusOk}}))
            (then
              (call $output (i32.const {{OkAt}}) (i32.const 3))
              (call $output (i32.const {{ReplyAt}}) (local.get $n)))
            (else
              (if (i32.eq (local.get $status) (i32.const {{WasmHostAbi.StatusDenied}}))
                (then (call $output (i32.const {{DeniedAt}}) (i32.const 7)))
                (else (call $output (i32.const {{FailedAt}}) (i32.const 7))))
              ;; After a denial or a failure the reply is "code: message": the code is what comes before the colon.
              (block $found
                (loop $scan
                  (br_if $found (i32.ge_u (local.get $i) (local.get $n)))
                  (br_if $found (i32.eq (i32.load8_u offset={{ReplyAt}} (local.get $i)) (i32.const 58)))
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br $scan)))
              (call $output (i32.const {{ReplyAt}}) (local.get $i))))
          (call $output (i32.const {{NewlineAt}}) (i32.const 1)))
        """;

    private static readonly string Texts = $"""
        (data (i32.const {OkAt}) "ok:")
        (data (i32.const {DeniedAt}) "denied:")
        (data (i32.const {FailedAt}) "failed:")
        (data (i32.const {NewlineAt}) "\n")
        """;

    public override string Name => SandboxRuntimes.Wasm;

    // The runtime names a trap by its trap code.
    public override string FailureNamed => "Unreachable";

    public override string Echo => WatModules.Echo;

    public override string Fail => WatModules.Agent("(call $output (i32.const 0) (i32.const 6)) unreachable", data: """(data (i32.const 0) "before")""");

    public override string NotAProgram => "not wasm at all";

    public override ISandboxRuntime Create() => new WasmRuntime();

    public override string Write(int bytes) => WatModules.Agent(
        $$"""
        (local $left i32)
        (local.set $left (i32.const {{bytes}}))
        (block $done
          (loop $more
            (br_if $done (i32.le_s (local.get $left) (i32.const 0)))
            (call $output (i32.const 0) (select (i32.const {{Chunk}}) (local.get $left) (i32.gt_s (local.get $left) (i32.const {{Chunk}}))))
            (local.set $left (i32.sub (local.get $left) (i32.const {{Chunk}})))
            (br $more)))
        """,
        data: $"(data (i32.const 0) \"{new string('x', Chunk)}\")");

    public override string Call(params HostCall[] calls)
    {
        var strings = new Strings();
        var body = string.Concat(calls.Select(c => $"(call $line {strings.Call(c)})\n"));
        return WatModules.Agent(body, data: strings.Data + Texts, extra: Line);
    }

    public override string Loop(HostCall? first = null)
    {
        var strings = new Strings();
        var call = first is null ? string.Empty : $"(drop {strings.Call(first)})";
        return WatModules.Agent($"{call}\n(loop $forever (br $forever))", data: strings.Data);
    }

    // A page at a time, as an allocator grows its heap: refused at the limit, it traps with its memory full.
    public override string Allocate(long bytes) => WatModules.Agent(
        $$"""
        (block $done
          (loop $more
            (br_if $done (i32.ge_u (memory.size) (i32.const {{(bytes + 65535) / 65536}})))
            (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
            (br $more)))
        (call $output (i32.const 0) (i32.const 9))
        """,
        data: """(data (i32.const 0) "allocated")""");

    /// <summary>The strings of host calls, laid out one after another from address 0, each byte escaped.</summary>
    private sealed class Strings
    {
        private readonly StringBuilder _data = new();
        private int _next;

        public string Data => _data.ToString();

        /// <summary>The <c>call</c> import's invocation for <paramref name="call"/>.</summary>
        public string Call(HostCall call) =>
            $"(call $call {Place(call.Operation)} {Place(call.Argument)} {Place(call.Second)})";

        private string Place(string? text)
        {
            if (text is null)
            {
                return "(i32.const 0) (i32.const -1)";
            }

            var bytes = Encoding.UTF8.GetBytes(text);
            var at = _next;
            _next += bytes.Length;
            Assert.True(_next <= ReplyAt, "the host calls' strings do not fit below the reply");
            _data.Append($"(data (i32.const {at}) \"{string.Concat(bytes.Select(b => $"\\{b:x2}"))}\")\n");
            return $"(i32.const {at}) (i32.const {bytes.Length})";
        }
    }
}
