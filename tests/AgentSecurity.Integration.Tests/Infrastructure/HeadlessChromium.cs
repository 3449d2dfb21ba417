using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace AgentSecurity.Integration.Tests.Infrastructure;

/// <summary>
/// A real headless Chromium (Debian package <c>chromium</c>) with its DevTools port open on loopback, showing one blank
/// page to drive over the DevTools protocol (<see cref="DevToolsPage"/>). Run as root, it needs <c>--no-sandbox</c>.
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    private const string ListeningMarker = "DevTools listening on ws://";

    private readonly Process _process;
    private readonly DirectoryInfo _profile;

    private HeadlessChromium(Process process, DirectoryInfo profile, Uri devTools)
    {
        _process = process;
        _profile = profile;
        DevTools = devTools;
    }

    /// <summary>The DevTools HTTP endpoint (<c>http://127.0.0.1:port/</c>).</summary>
    public Uri DevTools { get; }

    public static async Task<HeadlessChromium> StartAsync(CancellationToken cancellation)
    {
        var profile = Directory.CreateTempSubdirectory("agentsec-chromium-");
        var start = new ProcessStartInfo("chromium")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1400,1000",
            $"--user-data-dir={profile.FullName}", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank",
        })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("chromium did not start");
        _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        try
        {
            // Chromium says which port it took on its standard error: the marker the test waits for.
            while (await process.StandardError.ReadLineAsync(cancellation) is { } line)
            {
                var at = line.IndexOf(ListeningMarker, StringComparison.Ordinal);
                if (at >= 0)
                {
                    var address = new Uri(line[(at + "DevTools listening on ".Length)..].Trim());
                    _ = DrainAsync(process.StandardError);
                    return new HeadlessChromium(process, profile, new Uri($"http://127.0.0.1:{address.Port}/"));
                }
            }

            throw new InvalidOperationException($"chromium exited ({(process.HasExited ? process.ExitCode : -1)}) before it opened its DevTools port");
        }
        catch
        {
            Stop(process);
            profile.Delete(recursive: true);
            throw;
        }
    }

    /// <summary>The blank page Chromium opened with, as a DevTools session.</summary>
    public async Task<DevToolsPage> PageAsync(CancellationToken cancellation)
    {
        using var http = new HttpClient { BaseAddress = DevTools };
        var deadline = Stopwatch.StartNew();

        // The browser lists its first page shortly after its port opens: polled, with a deadline (an external process).
        while (true)
        {
            var targets = await http.GetFromJsonAsync<JsonElement>("json/list", cancellation);
            foreach (var target in targets.EnumerateArray())
            {
                if (target.GetProperty("type").GetString() == "page" && target.TryGetProperty("webSocketDebuggerUrl", out var url))
                {
                    return await DevToolsPage.ConnectAsync(new Uri(url.GetString()!), cancellation);
                }
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException("chromium listed no page within 30 s");
            }

            // A poll of another process with a deadline: chromium lists its page when ready and signals nothing.
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellation);
        }
    }

    private static async Task DrainAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is not null)
        {
        }
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        process.WaitForExit();
    }

    public ValueTask DisposeAsync()
    {
        Stop(_process);
        _process.Dispose();
        try
        {
            _profile.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A file Chromium's last child still held: the temporary directory is left for the system to clear.
        }

        return ValueTask.CompletedTask;
    }
}
