using System.Text.Encodings.Web;
using System.Text.Json;
using AgentSecurity.Sandbox.Host;
using AgentSecurity.Sandbox.Processes;
using AgentSecurity.Sandbox.Tests.Infrastructure;

namespace AgentSecurity.Sandbox.Tests.Contract;

/// <summary>The contract's programs as shell and perl scripts; host calls are JSON lines on the host socket.</summary>
internal sealed class ProcessAdapter : RuntimeAdapter
{
    /// <summary>Sends each request line of <c>DATA</c> to the host socket and writes the contract's line for its reply.</summary>
    private const string Caller = """
        #!/usr/bin/perl
        use strict;
        use warnings;
        use IO::Socket::UNIX;
        use JSON::PP;
        binmode STDOUT, ':encoding(UTF-8)';
        my $host = IO::Socket::UNIX->new(Peer => $ENV{AGENTSEC_HOST_SOCKET}) or die "no host socket: $!";
        while (my $request = <DATA>) {
          print $host $request;
          my $reply = decode_json(scalar <$host>);
          print $reply->{ok} ? 'ok:' . ($reply->{value} // '') : ($reply->{denied} ? 'denied:' : 'failed:') . $reply->{error}, "\n";
        }
        """;

    // Non-ASCII text goes as UTF-8, not as \u escapes, as a program in another language would send it.
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public override string Name => SandboxRuntimes.Process;

    // The runtime reports how the process ended.
    public override string FailureNamed => "exited with code 3";

    public override string Echo => "#!/bin/sh\nexec cat\n";

    public override string Fail => "#!/bin/sh\nprintf before\nexit 3\n";

    public override string NotAProgram => "\0\u0001\u0002\u0003";

    // A scratch root of its own: a runtime writes its seccomp filter there, and the process tests' runtime runs beside this one.
    public override ISandboxRuntime Create()
    {
        var runtime = new ProcessRuntime(new ProcessRuntimeOptions { ScratchRoot = Path.Combine(Jobs.Workspaces.Root, ".exec-contract") });
        Assert.True(runtime.Unavailable is null, $"the native runtime cannot run here: {runtime.Unavailable}");
        return runtime;
    }

    public override string Write(int bytes) => $$"""
        #!/usr/bin/perl
        my $chunk = 'x' x 1024;
        for (my $left = {{bytes}}; $left > 0; $left -= 1024) { print $left >= 1024 ? $chunk : substr($chunk, 0, $left); }
        """;

    public override string Call(params HostCall[] calls) => $"{Caller}__DATA__\n{string.Concat(calls.Select(c => Request(c) + "\n"))}";

    public override string Loop(HostCall? first = null) => first is null
        ? "#!/usr/bin/perl\n1 while 1;\n"
        : $$"""
            #!/usr/bin/perl
            use IO::Socket::UNIX;
            my $host = IO::Socket::UNIX->new(Peer => $ENV{AGENTSEC_HOST_SOCKET}) or die "no host socket: $!";
            print $host scalar <DATA>;
            my $reply = <$host>;
            1 while 1;
            __DATA__
            {{Request(first)}}

            """;

    // Perl keeps every string it is given; a refused allocation ends it with "Out of memory!".
    public override string Allocate(long bytes) => $$"""
        #!/usr/bin/perl
        my @kept;
        for (my $left = {{bytes}}; $left > 0; $left -= 1 << 20) { push @kept, 'x' x (1 << 20); }
        print 'allocated';
        """;

    private static string Request(HostCall call) => JsonSerializer.Serialize(new { op = call.Operation, arg = call.Argument, arg2 = call.Second }, Json);
}
