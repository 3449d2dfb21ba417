using System.Diagnostics;
using System.Globalization;
using AgentSecurity.Mcp.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Client;

namespace AgentSecurity.Mcp.Upstreams;

/// <summary>
/// Starts an upstream as a child process of the gateway with an environment built from nothing (the gateway's own carries
/// the caller's key and TLS files), on the gateway's view of the file system.
/// </summary>
public sealed class LocalUpstreamLauncher(ILoggerFactory? loggerFactory = null) : IUpstreamLauncher
{
    private readonly ILogger _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger(typeof(UpstreamConnection).FullName!);

    public Task<UpstreamProcess> StartAsync(UpstreamOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var start = new ProcessStartInfo(options.Command)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = options.WorkingDirectory ?? string.Empty,
        };
        foreach (var argument in options.Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Clear();
        foreach (var (name, value) in StdioClientTransportOptions.GetDefaultEnvironmentVariables())
        {
            start.Environment[name] = value;
        }

        foreach (var (name, value) in options.Environment)
        {
            start.Environment[name] = value;
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new UpstreamStartException($"{options.Command} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new UpstreamStartException($"{options.Command} cannot be started: {e.Message}", e);
        }

        var standardError = new StandardErrorTail();
        _ = standardError.PumpAsync(process.StandardError, block => Log.UpstreamStandardError(_logger, options.Name, block));
        return Task.FromResult<UpstreamProcess>(new LocalProcess(process, standardError));
    }

    private sealed class LocalProcess : UpstreamProcess
    {
        private readonly Process _process;
        private readonly StandardErrorTail _standardError;

        public LocalProcess(Process process, StandardErrorTail standardError)
        {
            _process = process;
            _standardError = standardError;
            Exited = process.WaitForExitAsync();
        }

        public override Stream Input => _process.StandardInput.BaseStream;

        public override Stream Output => _process.StandardOutput.BaseStream;

        public override Task Exited { get; }

        public override int? ProcessId => _process.Id;

        public override string DescribeExit(bool withErrorTail = false)
        {
            var code = Exited.IsCompleted ? _process.ExitCode.ToString(CultureInfo.InvariantCulture) : "unknown";
            var tail = _standardError.Text;
            return $"exited (code {code})" + (withErrorTail && tail.Length > 0 ? $": {tail}" : string.Empty);
        }

        public override void Kill()
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                }
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
            {
                // Already gone.
            }
        }

        public override ValueTask DisposeAsync()
        {
            Kill();
            _process.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
