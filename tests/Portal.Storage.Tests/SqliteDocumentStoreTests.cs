using Portal.Storage.Sqlite;

namespace Portal.Storage.Tests;

/// <summary>The conformance suite on a SQLite file of its own; the second instance opens the same file, as a second portal instance would.</summary>
public sealed class SqliteDocumentStoreTests : DocumentStoreConformance, IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly List<SqliteDocumentStore> _stores = [];

    private string DatabasePath => Path.Combine(_directory.Path, "portal.db");

    protected override Task<IDocumentStore> CreateStoreAsync(TimeProvider clock) => Task.FromResult<IDocumentStore>(Open(clock));

    protected override Task<IDocumentStore> CreateSecondInstanceAsync(TimeProvider clock) => Task.FromResult<IDocumentStore>(Open(clock));

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }

        _directory.Dispose();
    }

    private SqliteDocumentStore Open(TimeProvider clock)
    {
        var store = new SqliteDocumentStore(DatabasePath, clock);
        _stores.Add(store);
        return store;
    }
}
