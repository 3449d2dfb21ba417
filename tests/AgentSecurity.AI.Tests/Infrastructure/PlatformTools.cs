using Microsoft.Extensions.AI;

namespace AgentSecurity.AI.Tests.Infrastructure;

/// <summary>The platform's functions, each counting its invocations, so a test sees what really ran.</summary>
public sealed class PlatformTools
{
    private int _weather;
    private int _deleted;
    private int _read;
    private int _mailed;

    public int Weather => _weather;

    public int Deleted => _deleted;

    public int Read => _read;

    public int Mailed => _mailed;

    public AIFunction GetWeather => AIFunctionFactory.Create((string city) => { Interlocked.Increment(ref _weather); return $"sunny in {city}"; }, "get_weather");

    public AIFunction DeleteRepo => AIFunctionFactory.Create((string repo) => { Interlocked.Increment(ref _deleted); return $"deleted {repo}"; }, "delete_repo");

    public AIFunction ReadFile => AIFunctionFactory.Create((string path) => { Interlocked.Increment(ref _read); return $"contents of {path}"; }, "read_file");

    public AIFunction SendMail => AIFunctionFactory.Create((string to) => { Interlocked.Increment(ref _mailed); return $"mailed {to}"; }, "send_mail");
}
