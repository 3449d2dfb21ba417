using System.Text.Encodings.Web;
using System.Text.Json;
using AgentSecurity.Sandbox.Host;
using AgentSecurity.Sandbox.Tests.Infrastructure;

namespace AgentSecurity.Sandbox.Tests.Contract;

/// <summary>The contract's programs as scripts on the <c>agentsec</c> object.</summary>
internal sealed class JavaScriptAdapter : RuntimeAdapter
{
    // Non-ASCII text stays itself in the source, not a \u escape.
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public override string Name => SandboxRuntimes.JavaScript;

    // The runtime reports an uncaught error with its message.
    public override string FailureNamed => "boom";

    public override string Echo => "agentsec.output(agentsec.input());";

    public override string Fail => "agentsec.output('before'); throw new Error('boom');";

    public override string NotAProgram => "syntax error (";

    public override ISandboxRuntime Create() => JsWorkers.Shared;

    public override string Write(int bytes) => $$"""
        const chunk = 'x'.repeat(1024);
        for (let left = {{bytes}}; left > 0; left -= 1024) agentsec.output(left >= 1024 ? chunk : chunk.slice(0, left));
        """;

    public override string Call(params HostCall[] calls) => $$"""
        for (const [operation, argument, second] of {{Literal(calls)}}) {
          let line;
          try {
            line = 'ok:' + (agentsec.call(operation, argument, second) ?? '');
          } catch (e) {
            line = (e.denied ? 'denied:' : 'failed:') + e.code;
          }
          agentsec.output(line + '\n');
        }
        """;

    public override string Loop(HostCall? first = null) => first is null
        ? "for (;;) {}"
        : $$"""
            const [operation, argument, second] = {{Literal([first])}}[0];
            try { agentsec.call(operation, argument, second); } catch (e) {}
            for (;;) {}
            """;

    // Strings are UTF-16: a mebibyte is half a mebi-character.
    public override string Allocate(long bytes) => $$"""
        const kept = [];
        for (let left = {{bytes}}; left > 0; left -= 1 << 20) kept.push('x'.repeat(1 << 19) + left);
        agentsec.output('allocated');
        """;

    /// <summary>The calls as a JavaScript array literal of [operation, argument, second] (JSON is one).</summary>
    private static string Literal(IEnumerable<HostCall> calls) =>
        JsonSerializer.Serialize(calls.Select(c => new[] { c.Operation, c.Argument, c.Second }), Json);
}
