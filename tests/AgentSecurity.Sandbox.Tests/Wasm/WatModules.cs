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

    /// <summary>Makes the host call of <paramref name="operation"/> on <paramref name="argument"/> and writes its status digit and reply.</summary>
    public static string HostCall(string operation, string argument, string? second = null) => Agent(
        $$"""
        (local $status i32)
        (local $n i32)
        (local.set $status (call $call
          (i32.const 0) (i32.const {{operation.Length}})
          (i32.const 64) (i32.const {{argument.Length}})
          (i32.const 512) (i32.const {{(second is null ? -1 : second.Length)}})))
        (i32.store8 (i32.const 2048) (i32.add (i32.const 48) (local.get $status)))
        (call $output (i32.const 2048) (i32.const 1))
        (call $output (i32.const 2049) (i32.const 1))
        (local.set $n (call $reply (i32.const 4096) (i32.const 8192)))
        (call $output (i32.const 4096) (local.get $n))
        """,
        $$"""
        (data (i32.const 0) "{{operation}}")
        (data (i32.const 64) "{{argument}}")
        (data (i32.const 512) "{{second}}")
        (data (i32.const 2049) " ")
        """);

    public static readonly string Trivial = Agent(string.Empty);

    public static readonly string InfiniteLoop = Agent("(loop $forever (br $forever))");

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

    /// <summary>Writes the same 1 KiB over and over.</summary>
    public static readonly string OutputFlood = Agent("(loop $again (call $output (i32.const 0) (i32.const 1024)) (br $again))");

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

    public static readonly string Traps = Agent("unreachable");

    /// <summary>Counts down from <paramref name="iterations"/>: for measuring fuel against time.</summary>
    public static string Countdown(long iterations) => Agent($$"""
        (local $i i64)
        (local.set $i (i64.const {{iterations}}))
        (loop $next
          (local.set $i (i64.sub (local.get $i) (i64.const 1)))
          (br_if $next (i64.ne (local.get $i) (i64.const 0))))
        """);
}
