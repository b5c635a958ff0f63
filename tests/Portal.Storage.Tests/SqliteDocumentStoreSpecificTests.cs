using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Portal.Storage.Sqlite;

namespace Portal.Storage.Tests;

/// <summary>What only the SQLite backend has to prove: its SQL inputs, its schema, its whole-store purge.</summary>
public sealed class SqliteDocumentStoreSpecificTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);

    private readonly TempDirectory _directory = new();
    private readonly FakeTimeProvider _clock = new(Start);
    private readonly List<SqliteDocumentStore> _stores = [];

    public void Dispose()
    {
        _stores.ForEach(s => s.Dispose());
        _directory.Dispose();
    }

    private SqliteDocumentStore Open()
    {
        var store = new SqliteDocumentStore(Path.Combine(_directory.Path, "portal.db"), _clock);
        _stores.Add(store);
        return store;
    }

    [Theory]
    [InlineData("a') OR 1=1 --")]
    [InlineData("caller.")]
    [InlineData(".caller")]
    [InlineData("caller..idHash")]
    [InlineData("1field")]
    [InlineData("caller[0]")]
    [InlineData("$.caller")]
    [InlineData("")]
    public async Task QueryAsync_FieldPathNotPlainDotted_IsRejected(string fieldPath)
    {
        var store = Open();
        var query = new DocumentQuery(new CollectionPath("docs")) { Filters = [new(fieldPath, FilterOperator.Equal, "x")] };

        await Assert.ThrowsAsync<ArgumentException>(async () =>
        {
            await foreach (var unused in store.QueryAsync(query))
            {
                _ = unused;
            }
        });
    }

    [Fact]
    public async Task QueryAsync_UnsupportedValueType_IsRejected()
    {
        var store = Open();
        var query = new DocumentQuery(new CollectionPath("docs")) { Filters = [new("a", FilterOperator.Equal, new object())] };

        await Assert.ThrowsAsync<ArgumentException>(async () =>
        {
            await foreach (var unused in store.QueryAsync(query))
            {
                _ = unused;
            }
        });
    }

    [Fact]
    public async Task Constructor_ExistingFile_KeepsData()
    {
        var first = Open();
        await first.SetAsync(new DocumentKey(new CollectionPath("docs"), "a"), new JsonObject { ["v"] = 1 }, null);

        var second = Open();

        Assert.NotNull(await second.GetAsync(new DocumentKey(new CollectionPath("docs"), "a")));
    }

    /// <summary>A file written by the first version (the table and its expiry index, no expression indexes, user_version 0) keeps working, and is upgraded in place.</summary>
    [Fact]
    public async Task Constructor_FileOfTheFirstVersion_IsUpgradedAndKeepsItsData()
    {
        var path = Path.Combine(_directory.Path, "portal.db");
        using (var old = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            old.Open();
            using var command = old.CreateCommand();
            command.CommandText = """
                PRAGMA journal_mode = WAL;
                CREATE TABLE documents (collection TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, expire_at TEXT NULL, version INTEGER NOT NULL, PRIMARY KEY (collection, id)) WITHOUT ROWID;
                CREATE INDEX documents_expiry ON documents (collection, expire_at);
                INSERT INTO documents VALUES ('tenants/a/audit', 'r1', '{"at":"2026-11-23T07:00:00.0000000Z","action":"x"}', NULL, 3);
                INSERT INTO documents VALUES ('tenants/a/audit', 'r2', '{"at":"2026-11-23T07:30:00.0000000Z","action":"y"}', NULL, 1);
                """;
            command.ExecuteNonQuery();
        }

        var store = Open();

        var found = new List<string>();
        await foreach (var document in store.QueryAsync(new DocumentQuery(CollectionPath.ForTenant("a", "audit"))
        {
            Filters = [new FieldFilter("action", FilterOperator.Equal, "x")],
            OrderBy = new FieldOrder("at", Descending: true),
        }))
        {
            found.Add(document.Key.Id + "@" + document.Version);
        }

        Assert.Equal(["r1@3"], found);
        using var check = new SqliteConnection($"Data Source={path};Pooling=False");
        check.Open();
        using var read = check.CreateCommand();
        read.CommandText = "SELECT (SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'documents_by_%')";
        using var reader = read.ExecuteReader();
        reader.Read();
        Assert.Equal(SqliteDocumentStore.SchemaVersion, reader.GetInt32(0));
        Assert.Equal(SqliteIndexes.All.Count, reader.GetInt32(1));
    }

    [Fact]
    public void Constructor_FileOfALaterVersion_IsRefusedNamingTheSetting()
    {
        var path = Path.Combine(_directory.Path, "portal.db");
        using (var later = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            later.Open();
            using var command = later.CreateCommand();
            command.CommandText = $"PRAGMA user_version = {SqliteDocumentStore.SchemaVersion + 1};";
            command.ExecuteNonQuery();
        }

        var error = Assert.Throws<InvalidOperationException>(Open);

        Assert.Contains("Portal:Storage:Sqlite", error.Message, StringComparison.Ordinal);
    }

    /// <summary>More expired documents than one batch: all go, in several short transactions, and another writer gets in between.</summary>
    [Fact]
    public async Task PurgeAllExpiredAsync_MoreThanOneBatch_DeletesAllAndLetsWritersIn()
    {
        var store = Open();
        var audit = CollectionPath.ForTenant("a", "audit");
        var count = (SqliteDocumentStore.PurgeBatch * 3) + 7;
        await store.SetManyAsync([.. Enumerable.Range(0, count).Select(i => new DocumentWrite(new DocumentKey(audit, $"r{i:D6}"), new JsonObject { ["i"] = i }, Start.AddMinutes(1)))]);
        await store.SetAsync(new DocumentKey(audit, "live"), new JsonObject(), Start.AddDays(1));

        var purge = store.PurgeAllExpiredAsync(Start.AddMinutes(1));
        var written = 0;
        while (!purge.IsCompleted)
        {
            // A write meanwhile waits for at most one batch, not for the whole purge.
            await store.SetAsync(new DocumentKey(audit, $"w{written++}"), new JsonObject(), null);
        }

        Assert.Equal(count, await purge);
        Assert.True(written > 1, $"only {written} writes got in during the purge");
        Assert.NotNull(await store.GetAsync(new DocumentKey(audit, "live")));
    }

    [Fact]
    public async Task PurgeAllExpiredAsync_DeletesExpiredRowsInEveryCollection()
    {
        var store = Open();
        var audit = CollectionPath.ForTenant("a", "audit");
        var otherAudit = CollectionPath.ForTenant("b", "audit");
        var sessions = new CollectionPath("agentSessions");
        await store.SetAsync(new DocumentKey(audit, "old"), new JsonObject(), Start.AddMinutes(1));
        await store.SetAsync(new DocumentKey(otherAudit, "old"), new JsonObject(), Start.AddMinutes(1));
        await store.SetAsync(new DocumentKey(sessions, "old"), new JsonObject(), Start.AddMinutes(1));
        await store.SetAsync(new DocumentKey(audit, "new"), new JsonObject(), Start.AddDays(1));
        await store.SetAsync(new DocumentKey(sessions, "forever"), new JsonObject(), null);

        var purged = await store.PurgeAllExpiredAsync(Start.AddMinutes(1));

        Assert.Equal(3, purged);
        var earlier = new SqliteDocumentStore(Path.Combine(_directory.Path, "portal.db"), new FakeTimeProvider(Start));
        _stores.Add(earlier);
        Assert.Null(await earlier.GetAsync(new DocumentKey(otherAudit, "old")));
        Assert.NotNull(await earlier.GetAsync(new DocumentKey(audit, "new")));
        Assert.NotNull(await earlier.GetAsync(new DocumentKey(sessions, "forever")));
    }

    [Fact]
    public async Task ExpiredDocumentPurger_OnStartAndEachInterval_Purges()
    {
        var store = Open();
        var collection = CollectionPath.ForTenant("a", "audit");
        await store.SetAsync(new DocumentKey(collection, "one"), new JsonObject(), Start.AddMinutes(1));
        await store.SetAsync(new DocumentKey(collection, "two"), new JsonObject(), Start.AddMinutes(20));
        var options = Options.Create(new StorageOptions { PurgeInterval = TimeSpan.FromMinutes(15) });
        using var purger = new ExpiredDocumentPurger([store], options, _clock, NullLogger<ExpiredDocumentPurger>.Instance);
        _clock.Advance(TimeSpan.FromMinutes(2));

        var firstRun = await purger.PurgeOnceAsync(CancellationToken.None);
        _clock.Advance(TimeSpan.FromMinutes(20));
        var secondRun = await purger.PurgeOnceAsync(CancellationToken.None);
        var thirdRun = await purger.PurgeOnceAsync(CancellationToken.None);

        Assert.Equal(1, firstRun);
        Assert.Equal(1, secondRun);
        Assert.Equal(0, thirdRun);
    }

    [Fact]
    public async Task ExpiredDocumentPurger_Running_PurgesWhenTheIntervalElapses()
    {
        var store = Open();
        var key = new DocumentKey(CollectionPath.ForTenant("a", "audit"), "one");
        var earlier = new SqliteDocumentStore(Path.Combine(_directory.Path, "portal.db"), new FakeTimeProvider(Start));
        _stores.Add(earlier);
        // Expires after the last moment the first (start-up) run can happen, and before the first tick.
        await store.SetAsync(key, new JsonObject(), Start.AddMinutes(12));
        var options = Options.Create(new StorageOptions { PurgeInterval = TimeSpan.FromMinutes(15) });
        using var purger = new ExpiredDocumentPurger([store], options, _clock, NullLogger<ExpiredDocumentPurger>.Instance);

        await purger.StartAsync(CancellationToken.None);
        _clock.Advance(TimeSpan.FromMinutes(10));
        var beforeTick = await earlier.GetAsync(key);
        _clock.Advance(TimeSpan.FromMinutes(5));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await earlier.GetAsync(key) is not null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        var afterTick = await earlier.GetAsync(key);
        await purger.StopAsync(CancellationToken.None);

        Assert.NotNull(beforeTick);
        Assert.Null(afterTick);
    }
}
