using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Portal.Audit;
using Portal.Storage;

namespace Portal.Bench;

/// <summary>Where a benchmark's SQLite files live.</summary>
public enum StorageMedium
{
    /// <summary>The temp folder on the machine's disk: every commit waits for a real fsync of the WAL.</summary>
    Disk,

    /// <summary>
    /// A tmpfs (<c>/dev/shm</c>), where fsync returns at once: what is left is the CPU cost of the code,
    /// which is what a ratio of two ways of writing should compare.
    /// </summary>
    Memory,
}

/// <summary>
/// The portal's SQLite store (and, when asked, its audit trail) wired exactly as the portal wires them,
/// over a database file in a fresh temporary folder that is deleted afterwards.
/// </summary>
internal sealed class TempStore : IDisposable
{
    private const string MemoryRoot = "/dev/shm";

    private readonly ServiceProvider _services;

    public TempStore(StorageMedium medium, bool withAudit)
    {
        var root = medium == StorageMedium.Memory && Directory.Exists(MemoryRoot) ? MemoryRoot : Path.GetTempPath();
        FolderPath = Path.Combine(root, "portal-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(FolderPath);
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Portal:Storage:Sqlite:Path"] = Path.Combine(FolderPath, "portal.db") })
            .Build();
        var services = new ServiceCollection();
        services.AddPortalStorage(configuration);
        if (withAudit)
        {
            services.AddPortalAudit();
            services.Configure<AuditOptions>(o => o.PseudonymisationKey = Samples.NewPseudonymisationKey());
        }

        _services = services.BuildServiceProvider();
        Store = _services.GetRequiredService<IDocumentStore>();
    }

    /// <summary>The folder of the database; a baseline database may sit beside the store's, on the same file system.</summary>
    public string FolderPath { get; }

    public IDocumentStore Store { get; }

    public T Get<T>()
        where T : notnull => _services.GetRequiredService<T>();

    public void Dispose()
    {
        _services.Dispose();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(FolderPath, recursive: true);
        }
        catch (IOException)
        {
            // Left to the OS temp cleaner.
        }
    }
}
