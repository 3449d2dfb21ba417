using Microsoft.Extensions.AI;

namespace AgentsAsGrains;

/// <summary>The platform's functions, as it had them before the kernel came.</summary>
public sealed class Tools
{
    public AIFunction GetWeather { get; } = AIFunctionFactory.Create((string city) => $"sunny in {city}", "get_weather", "The weather in a city");

    public AIFunction ReadFile { get; } = AIFunctionFactory.Create((string path) => $"(the contents of {path})", "read_file", "Reads a file");

    public AIFunction DeleteRepo { get; } = AIFunctionFactory.Create((string repo) => $"deleted {repo}", "delete_repo", "Deletes a repository");

    public List<AITool> All => [GetWeather, ReadFile, DeleteRepo];
}
