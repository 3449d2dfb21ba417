namespace AgentSecurity.Sandbox.Tests.Wasm;

/// <summary>Agent modules in WebAssembly text, the way agents for tests and examples are written.</summary>
internal static class WatModules
{
    private const string Imports = """
        (import "agentsec" "input" (func $input (param i32 i32) (result i32)))
        (import "agentsec" "output" (func $output (param i32 i32)))
        (import "agentsec" "call" (func $call (param i32 i32 i32 i32 i32 i32) (result i32)))
        (import "agentsec" "reply" (func $reply (param i32 i32) (result i32)))
        """;

    /// <summary>A module with the host API imported, one page of memory, and <paramref name="body"/> as <c>run</c>.</summary>
    public static string Agent(string body, string data = "", string extra = "") => $$"""
        (module
          {{Imports}}
          (memory (export "memory") 1)
          {{data}}
          {{extra}}
          (func (export "run") {{body}}))
        """;

    /// <summary>Copies its input to its output.</summary>
    public static readonly string Echo = Agent("""
        (local $n i32)
        (local.set $n (call $input (i32.const 1024) (i32.const 4096)))
        (call $output (i32.const 1024) (local.get $n))
        """);

    public static readonly string Trivial = Agent(string.Empty);

    /// <summary>Grows memory a page at a time until refused, then traps (what a program that cannot allocate does).</summary>
    public static readonly string MemoryBomb = Agent("""
        (loop $more
          (br_if $more (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
        unreachable
        """);

    /// <summary>Declares more initial memory than any execution gets (4 GiB).</summary>
    public static readonly string HugeInitialMemory = """
        (module (memory (export "memory") 65536) (func (export "run")))
        """;

    public static readonly string DeepRecursion = Agent("(call $down)", extra: "(func $down (call $down))");

    /// <summary>Asks the host to read outside the module's memory.</summary>
    public static readonly string PointerOutOfBounds = Agent("(call $output (i32.const 65000) (i32.const 100000))");

    public static readonly string ImportsWasi = """
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (func (export "run")))
        """;

    public static readonly string ImportsUnknownHostFunction = """
        (module
          (import "agentsec" "exec" (func $exec (param i32 i32) (result i32)))
          (memory (export "memory") 1)
          (func (export "run")))
        """;

    public static readonly string ImportsHostFunctionWithWrongType = """
        (module
          (import "agentsec" "output" (func $output (param i64)))
          (func (export "run")))
        """;

    public static readonly string ImportsMemory = """
        (module
          (import "agentsec" "memory" (memory 1))
          (func (export "run")))
        """;

    public static readonly string NoRunExport = """(module (func (export "main")))""";

    public static readonly string RunWithParameters = """(module (func (export "run") (param i32)))""";

    /// <summary>Counts down from <paramref name="iterations"/>: for measuring fuel against time.</summary>
    public static string Countdown(long iterations) => Agent($$"""
        (local $i i64)
        (local.set $i (i64.const {{iterations}}))
        (loop $next
          (local.set $i (i64.sub (local.get $i) (i64.const 1)))
          (br_if $next (i64.ne (local.get $i) (i64.const 0))))
        """);
}
