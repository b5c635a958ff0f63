using Microsoft.Extensions.Options;

namespace Portal.Storage;

/// <summary>Which backend holds the portal's documents.</summary>
public enum StorageProvider
{
    /// <summary>A local SQLite file: the embedded default.</summary>
    Sqlite,

    /// <summary>Google Cloud Firestore (production on Cloud Run).</summary>
    Firestore,
}

/// <summary>The settings under <c>Portal:Storage</c>.</summary>
public sealed class StorageOptions
{
    public const string Section = "Portal:Storage";

    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    public SqliteStorageOptions Sqlite { get; } = new();

    public FirestoreStorageOptions Firestore { get; } = new();

    /// <summary>How often expired documents are deleted (reads already ignore them); default 15 minutes.</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromMinutes(15);
}

/// <summary>The settings under <c>Portal:Storage:Sqlite</c>.</summary>
public sealed class SqliteStorageOptions
{
    /// <summary>The database file; relative paths are relative to the working directory. Its folder is created if missing.</summary>
    public string Path { get; set; } = ".portal-data/portal.db";
}

/// <summary>The settings under <c>Portal:Storage:Firestore</c>.</summary>
public sealed class FirestoreStorageOptions
{
    public string? ProjectId { get; set; }

    public string DatabaseId { get; set; } = "(default)";

    /// <summary><c>host:port</c> of a local Firestore emulator; when set, no Google credentials are used.</summary>
    public string? EmulatorHost { get; set; }
}

/// <summary>A bad storage setting stops start-up with the name of the setting, not at the first write.</summary>
internal sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    private static readonly TimeSpan MinPurgeInterval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxPurgeInterval = TimeSpan.FromDays(1);

    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        var failures = new List<string>();
        if (!Enum.IsDefined(options.Provider))
        {
            failures.Add("Portal:Storage:Provider must be Sqlite or Firestore.");
        }

        if (options.Provider == StorageProvider.Sqlite && string.IsNullOrWhiteSpace(options.Sqlite.Path))
        {
            failures.Add("Portal:Storage:Sqlite:Path must be set.");
        }

        if (options.Provider == StorageProvider.Firestore && string.IsNullOrWhiteSpace(options.Firestore.ProjectId))
        {
            failures.Add("Portal:Storage:Firestore:ProjectId must be set.");
        }

        if (options.PurgeInterval < MinPurgeInterval || options.PurgeInterval > MaxPurgeInterval)
        {
            failures.Add("Portal:Storage:PurgeInterval must be between 00:00:10 and 1.00:00:00.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
