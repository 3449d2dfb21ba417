using AgentSecurity.Grants;
using AgentSecurity.Grants.Crypto;

namespace AgentSecurity.Cli;

/// <summary>Key files on disk: written once with mode 0600, never overwritten.</summary>
internal static class KeyFiles
{
    public static Result<SigningKey> Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Result<SigningKey>.Fail(ReasonCodes.InvalidKey, $"cannot read key file {path}: {e.Message}");
        }

        var key = SigningKey.FromKeyFileJson(bytes);
        return key.Succeeded ? key : Result<SigningKey>.Fail(key.Failure.Code, $"{path}: {key.Failure.Message}");
    }

    /// <summary>Creates the file with owner-only permissions from the start, so the key is never readable by others.</summary>
    public static void Write(string path, SigningKey key)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.WriteLine(key.ToKeyFileJson());
    }
}
