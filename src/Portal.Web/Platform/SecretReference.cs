namespace Portal.Web.Platform;

/// <summary>
/// Resolves a secret reference (<c>env:NAME</c> or <c>file:/path</c>). Settings and stored tenant records
/// hold only such references, never the secret itself (docs/security-requirements.md D5); the value lives in the process
/// environment or a mounted secret file (Cloud Run's Secret Manager mounts).
/// </summary>
public interface ISecretResolver
{
    /// <summary>The secret's value. Throws <see cref="InvalidOperationException"/> naming <paramref name="settingName"/> when it cannot be resolved.</summary>
    string Resolve(string reference, string settingName);
}

internal sealed class SecretResolver : ISecretResolver
{
    public static bool IsWellFormed(string? reference) =>
        reference is not null
        && ((reference.StartsWith("env:", StringComparison.Ordinal) && reference.Length > 4)
            || (reference.StartsWith("file:", StringComparison.Ordinal) && reference.Length > 5));

    public string Resolve(string reference, string settingName)
    {
        if (!IsWellFormed(reference))
        {
            throw new InvalidOperationException($"{settingName} must be a secret reference: 'env:VARIABLE' or 'file:/path/to/secret'.");
        }

        string? value;
        if (reference.StartsWith("env:", StringComparison.Ordinal))
        {
            var name = reference[4..];
            value = Environment.GetEnvironmentVariable(name);
            if (string.IsNullOrWhiteSpace(value))
            {
                throw new InvalidOperationException($"{settingName} refers to the environment variable {name}, which is not set.");
            }
        }
        else
        {
            var path = reference[5..];
            if (!File.Exists(path))
            {
                throw new InvalidOperationException($"{settingName} refers to the file {path}, which does not exist.");
            }

            value = File.ReadAllText(path);
        }

        return value.Trim();
    }
}
